"""Turn the current (child) process into the OCI ``process``: console, limits,
identity, capabilities, seccomp, cwd, and finally exec.

Order (runc's standard_init): rlimits and oom_score_adj while privileged; close
every host fd; seccomp now if no_new_privs is off (loading needs CAP_SYS_ADMIN);
drop the bounding set; change uid/gid keeping caps; set the capability sets;
chdir; no_new_privs; and, with no_new_privs on, seccomp just before exec.
"""
from __future__ import annotations

import _socket
import errno
import os
import sys

from dockyard.runtime import syscalls as sc
from dockyard.runtime.linux import caps as capslib
from dockyard.runtime.spec import RLIMITS

DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


def env_dict(process: dict) -> dict[str, str]:
    return dict(e.split("=", 1) for e in process.get("env") or [])


def resolve_executable(process: dict) -> str:
    """args[0] as a path in the container, searched on the process's $PATH."""
    name = process["args"][0]
    if "/" in name:
        if not os.path.exists(name):
            raise OSError(errno.ENOENT, f'exec: "{name}": stat', name)
        return name
    for d in env_dict(process).get("PATH", DEFAULT_PATH).split(":"):
        candidate = os.path.join(d or ".", name)
        if os.path.isfile(candidate) and os.access(candidate, os.X_OK):
            return candidate
    raise OSError(errno.ENOENT, f'exec: "{name}": executable file not found in $PATH', None)


def close_host_fds(keep: tuple[int, ...]) -> None:
    """Close every fd but stdio and ``keep``: no host file or directory may stay
    reachable through /proc/self/fd (CVE-2024-21626)."""
    sys_, lo = sc.get(), 3
    for fd in sorted(k for k in keep if k >= 3):
        if fd > lo:
            sys_.close_range(lo, fd - 1)
        lo = fd + 1
    sys_.close_range(lo)


def finalize_process(process: dict, config: dict, opts: dict, keep: tuple[int, ...]) -> None:
    """Everything up to the exec fifo; leaves a seccomp filter in opts if still due."""
    if process.get("terminal"):
        setup_console(opts.pop("console_fd"), process)
    if process.get("oomScoreAdj") is not None:
        _write("/proc/self/oom_score_adj", str(process["oomScoreAdj"]))
    for rl in process.get("rlimits") or []:
        sc.get().setrlimit(RLIMITS[rl["type"]], rl["soft"], rl["hard"])
    close_host_fds(keep + ((opts["trampoline_fd"],) if opts.get("trampoline_fd") else ()))
    nnp = bool(process.get("noNewPrivileges"))
    flt = opts.get("seccomp_filter")  # built by the parent: libseccomp is a host library
    if flt and not nnp:
        flt.load()
        flt = None
    _identity(process)
    _chdir(process.get("cwd") or "/")
    os.umask((process.get("user") or {}).get("umask", 0o022))
    if nnp:
        sc.get().prctl(sc.PR_SET_NO_NEW_PRIVS, 1)
    opts["pending_seccomp"] = flt


def _identity(process: dict) -> None:
    sys_ = sc.get()
    sets = capslib.masks(process.get("capabilities"))
    user = process.get("user") or {}
    capslib.drop_bounding(sets["bounding"])
    sys_.prctl(sc.PR_SET_KEEPCAPS, 1)
    gids = user.get("additionalGids")
    if gids is not None or "gid" in user:
        _setgroups(gids or [])
    sys_.setresgid(user.get("gid", 0))
    sys_.setresuid(user.get("uid", 0))
    sys_.prctl(sc.PR_SET_KEEPCAPS, 0)
    sys_.capset(sets["effective"], sets["permitted"], sets["inheritable"])
    for number in range(capslib.last_cap() + 1):
        if sets["ambient"] & (1 << number):
            try:
                sys_.prctl(sc.PR_CAP_AMBIENT, sc.PR_CAP_AMBIENT_RAISE, number)
            except OSError:
                pass  # not in permitted+inheritable: the kernel refuses, as with runc


def _setgroups(gids: list[int]) -> None:
    try:
        sc.get().setgroups(gids)
    except PermissionError:
        # a user namespace with setgroups denied: only an empty list could work
        if gids:
            raise


def _chdir(cwd: str) -> None:
    try:
        os.chdir(cwd)
    except OSError as e:
        raise OSError(e.errno, "chdir: " + (e.strerror or ""), cwd) from None
    try:
        os.getcwd()  # "(unreachable)" paths fail here: cwd is outside our root
    except OSError:
        raise OSError(errno.ENOENT, "chdir: current working directory is outside of "
                                    "container mount namespace root", cwd) from None


def _write(path: str, value: str) -> None:
    try:
        with open(path, "w") as f:
            f.write(value)
    except OSError as e:
        raise OSError(e.errno, "write: " + (e.strerror or ""), path) from None


def setup_console(console_fd: int, process: dict) -> None:
    """Make a pty in the container's devpts, send its master to the console socket,
    and make the slave our controlling terminal and stdio."""
    import fcntl  # loaded before pivot_root by load_console_modules()
    import termios
    master, slave = os.openpty()
    sock = _socket.socket(fileno=console_fd)
    try:
        sock.sendmsg([b"/dev/ptmx"], [(_socket.SOL_SOCKET, _socket.SCM_RIGHTS,
                                       master.to_bytes(4, sys.byteorder, signed=True))])
    finally:
        sock.close()
        os.close(master)
    uid = (process.get("user") or {}).get("uid", 0)
    os.fchown(slave, uid, -1)
    os.setsid()
    fcntl.ioctl(slave, termios.TIOCSCTTY, 0)
    for fd in (0, 1, 2):
        os.dup2(slave, fd)
    if slave > 2:
        os.close(slave)


def load_console_modules() -> None:
    """Import what :func:`setup_console` needs while the host stdlib is reachable."""
    import fcntl  # noqa: F401
    import termios  # noqa: F401


def open_fifo_path(fifo_fd: int) -> int:
    """Re-open the O_PATH exec fifo for writing; blocks until ``start`` reads it."""
    path = f"/proc/self/fd/{fifo_fd}"
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CLOEXEC)
    except OSError as e:
        raise OSError(e.errno, "open exec fifo: " + (e.strerror or ""), path) from None
    os.close(fifo_fd)
    return fd


def run_hooks_here(hooks: list[dict] | None, state: dict) -> None:
    if hooks:
        from dockyard.runtime.process.hooks import run
        run(hooks, state, "container")


def preload(config: dict, process: dict) -> dict:
    """Load, in the parent, what the child needs after pivot_root (host libraries
    and modules are out of reach then): the seccomp filter and, for hooks, subprocess."""
    from dockyard.runtime.linux import trampoline
    out = {"trampoline_fd": trampoline.create()}
    if (config.get("hooks") or {}).get("startContainer"):
        import subprocess  # noqa: F401
        from dockyard.runtime.process import hooks  # noqa: F401
    seccomp = (config.get("linux") or {}).get("seccomp")
    if seccomp:
        out["seccomp_filter"] = _filter_for(seccomp)
    return out


_FILTERS: dict[str, object] = {}  # profile JSON → compiled seccomp Program


def _filter_for(profile: dict):
    """The compiled BPF program for ``profile``, cached: building docker's
    profile with libseccomp and generating its BPF takes ~15 ms, and a
    long-lived caller (the supervisor) reuses a handful of profiles. The key
    is the whole profile, so any change compiles afresh."""
    from dockyard.runtime import jsonio
    from dockyard.runtime.linux.seccomp import Program
    key = jsonio.dumps(profile)
    flt = _FILTERS.get(key)
    if flt is None:
        flt = Program.compile(profile)
        if len(_FILTERS) >= 8:
            _FILTERS.pop(next(iter(_FILTERS)))
        _FILTERS[key] = flt
    return flt


def exec_process(path: str, process: dict, config: dict, opts: dict | None = None) -> None:
    """Reset signal dispositions and mask, load a still-pending seccomp filter, then exec (through the sealed
    trampoline where there is one, see linux/trampoline.py). Does not return."""
    opts = opts or {}
    sc.get().reset_signals()  # before seccomp: the filter may deny rt_sigaction
    flt = opts.get("pending_seccomp")
    if flt is not None:
        flt.load()
    fd = opts.get("trampoline_fd")
    if fd is None:
        sc.get().execve(path, process["args"], env_dict(process))
    from dockyard.runtime.linux.trampoline import argv
    sc.get().execve(fd, argv(path, process["args"]), env_dict(process))

