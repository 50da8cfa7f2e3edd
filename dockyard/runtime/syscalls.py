"""The one seam through which the runtime makes side-effecting Linux syscalls.

Everything that changes kernel state for a container (namespaces, mounts, root,
hostname, capabilities, prctl, raw clone) goes through :class:`Linux`. Unit tests
swap it for a recording fake with :func:`use` (youki's ``TestHelperSyscall``).

Every failure raises ``OSError(errno, "<syscall>", path)`` so the message says
which syscall and which path failed (runc's ``os.PathError``).
"""
from __future__ import annotations

import _ctypes
import os
import sys

# clone(2)/unshare(2)/setns(2) flags
CLONE_NEWNS = 0x00020000
CLONE_NEWCGROUP = 0x02000000
CLONE_NEWUTS = 0x04000000
CLONE_NEWIPC = 0x08000000
CLONE_NEWUSER = 0x10000000
CLONE_NEWPID = 0x20000000
CLONE_NEWNET = 0x40000000
CLONE_PARENT = 0x00008000

# mount(2) flags
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC = 1, 2, 4, 8
MS_SYNCHRONOUS, MS_REMOUNT, MS_MANDLOCK, MS_DIRSYNC = 16, 32, 64, 128
MS_NOSYMFOLLOW, MS_NOATIME, MS_NODIRATIME = 256, 1024, 2048
MS_BIND, MS_MOVE, MS_REC, MS_SILENT = 4096, 8192, 16384, 32768
MS_UNBINDABLE, MS_PRIVATE, MS_SLAVE, MS_SHARED = 1 << 17, 1 << 18, 1 << 19, 1 << 20
MS_RELATIME, MS_STRICTATIME, MS_LAZYTIME = 1 << 21, 1 << 24, 1 << 25
MNT_DETACH = 2

# fcntl(2) memfd seals
F_ADD_SEALS = 1033
F_SEAL_SEAL, F_SEAL_SHRINK, F_SEAL_GROW, F_SEAL_WRITE = 1, 2, 4, 8

# prctl(2) options
PR_SET_PDEATHSIG = 1
PR_SET_DUMPABLE = 4
PR_SET_KEEPCAPS = 8
PR_CAPBSET_DROP = 24
PR_SET_NO_NEW_PRIVS = 38
PR_SET_SECCOMP = 22
SECCOMP_MODE_FILTER = 2
PR_SET_CHILD_SUBREAPER = 36
PR_CAP_AMBIENT = 47
PR_CAP_AMBIENT_RAISE = 2

# (clone, pivot_root, setns, close_range, pidfd_open) syscall numbers per machine
_SYSCALLS = {
    "x86_64": (56, 155, 308, 436, 434),
    "aarch64": (220, 41, 268, 436, 434),
}
_LINUX_CAPABILITY_VERSION_3 = 0x20080522


# A minimal FFI on _ctypes itself: the ctypes package costs ~2-3 ms to import on
# every CLI call, and the seam needs only int/long arguments and byte buffers.
class _Int(_ctypes._SimpleCData):
    _type_ = "i"


class _Long(_ctypes._SimpleCData):
    _type_ = "l"


class _ULong(_ctypes._SimpleCData):
    _type_ = "L"


class _IntFunc(_ctypes.CFuncPtr):
    _flags_ = _ctypes.FUNCFLAG_CDECL | _ctypes.FUNCFLAG_USE_ERRNO
    _restype_ = _Int


class _LongFunc(_ctypes.CFuncPtr):
    _flags_ = _ctypes.FUNCFLAG_CDECL | _ctypes.FUNCFLAG_USE_ERRNO
    _restype_ = _Long


class _Lib:
    """libc's symbols as callables (``int`` return, ``syscall`` returns ``long``)."""

    def __init__(self) -> None:
        self._handle = _ctypes.dlopen(None, 2)  # RTLD_NOW, the running process's libc

    def __getattr__(self, name: str):
        fn = (_LongFunc if name == "syscall" else _IntFunc)((name, self))
        setattr(self, name, fn)
        return fn


def _u32(value: int) -> bytes:
    """A native-endian u32 (struct.pack("I") without importing struct, ~1 ms of every CLI call)."""
    return value.to_bytes(4, sys.byteorder)


def _fs(value: str | None) -> bytes | None:
    return None if value is None else os.fsencode(value)


class Linux:
    """The real syscalls, through libc (_ctypes). Methods raise OSError on failure."""

    def __init__(self) -> None:
        self._libc = _Lib()
        nums = _SYSCALLS.get(os.uname().machine, _SYSCALLS["x86_64"])
        self._nr_clone, self._nr_pivot, self._nr_setns, self._nr_close_range, \
            self._nr_pidfd_open = nums

    def _check(self, ret: int, name: str, path: str | None = None) -> int:
        if ret == -1:
            err = _ctypes.get_errno()
            raise OSError(err, f"{name}: {os.strerror(err)}", path)
        return ret

    def unshare(self, flags: int) -> None:
        self._check(self._libc.unshare(_Int(flags)), "unshare")

    def setns(self, fd: int, nstype: int, path: str | None = None) -> None:
        self._check(self._libc.setns(_Int(fd), _Int(nstype)), "setns", path)

    def mount(self, source: str | None, target: str, fstype: str | None, flags: int,
              data: str | None = None) -> None:
        ret = self._libc.mount(_fs(source), _fs(target), _fs(fstype), _ULong(flags),
                               _fs(data))
        self._check(ret, "mount", target)

    def umount2(self, target: str, flags: int) -> None:
        self._check(self._libc.umount2(_fs(target), _Int(flags)), "umount2", target)

    def pivot_root(self, new_root: str, put_old: str) -> None:
        ret = self._libc.syscall(_Long(self._nr_pivot), _fs(new_root), _fs(put_old))
        self._check(ret, "pivot_root", new_root)

    def chroot(self, path: str) -> None:
        try:
            os.chroot(path)
        except OSError as e:
            raise OSError(e.errno, f"chroot: {e.strerror}", path) from None

    def sethostname(self, name: str) -> None:
        raw = name.encode()
        self._check(self._libc.sethostname(raw, _ULong(len(raw))), "sethostname")

    def setdomainname(self, name: str) -> None:
        raw = name.encode()
        self._check(self._libc.setdomainname(raw, _ULong(len(raw))), "setdomainname")

    def prctl(self, option: int, arg2: int = 0, arg3: int = 0, arg4: int = 0,
              arg5: int = 0) -> int:
        args = [_ULong(a) for a in (arg2, arg3, arg4, arg5)]
        return self._check(self._libc.prctl(_Int(option), *args), f"prctl({option})")

    def capset(self, effective: int, permitted: int, inheritable: int) -> None:
        """Set the three capability sets of this thread (64-bit masks)."""
        header = _u32(_LINUX_CAPABILITY_VERSION_3) + _u32(0)
        words = []
        for shift in (0, 32):  # two cap_user_data_t: low and high 32 bits
            words += [(m >> shift) & 0xFFFFFFFF for m in (effective, permitted, inheritable)]
        self._check(self._libc.capset(header, b"".join(_u32(w) for w in words)), "capset")

    def clone_parent(self, flags: int = 0) -> int:
        """Fork with CLONE_PARENT: the child becomes a sibling of the caller.

        Raw clone with a NULL stack behaves like fork (copy-on-write). The caller
        must be single-threaded (it is: a freshly forked intermediate process).
        Returns 0 in the child and the child's pid in the caller.
        """
        ret = self._libc.syscall(_Long(self._nr_clone),
                                 _ULong(CLONE_PARENT | flags | 17),  # 17 = SIGCHLD
                                 _ULong(0), _ULong(0), _ULong(0),
                                 _ULong(0))
        return self._check(ret, "clone")

    def close_range(self, first: int, last: int = 0xFFFFFFFF, flags: int = 0) -> None:
        ret = self._libc.syscall(_Long(self._nr_close_range), _ULong(first),
                                 _ULong(last), _ULong(flags))
        if ret == -1:  # kernel < 5.9: close one by one
            os.closerange(first, min(last, 1 << 20) + 1)

    def add_seals(self, fd: int, seals: int) -> None:
        """fcntl(F_ADD_SEALS) on a memfd (the fcntl module costs ~1 ms to import)."""
        self._check(self._libc.fcntl(_Int(fd), _Int(F_ADD_SEALS), _Int(seals)), "fcntl")

    def pidfd_open(self, pid: int) -> int:
        ret = self._libc.syscall(_Long(self._nr_pidfd_open), _Long(pid),
                                 _ULong(0))
        return self._check(ret, "pidfd_open", f"/proc/{pid}")

    def reset_signals(self) -> None:
        """Every signal back to its default action and an empty signal mask, as
        the container's process must start: an ignored signal survives exec (a
        daemon started with SIGINT ignored would hand that on, and a shell cannot
        trap a signal ignored at entry), and Python itself ignores SIGPIPE and
        SIGXFSZ. Not for SIGKILL/SIGSTOP or glibc's internal 32 and 33."""
        handler = self._libc.signal
        for sig in range(1, 65):
            if sig not in (9, 19, 32, 33):
                handler(_Int(sig), _ULong(0))  # SIG_DFL
        # SIG_SETMASK (2) to an empty set (the kernel's sigset_t is 8 bytes;
        # glibc's is 128, and it reads the whole buffer)
        self._check(self._libc.sigprocmask(_Int(2), bytes(128), None), "sigprocmask")

    # thin wrappers so identity changes are visible to (and fakeable by) tests
    def setgroups(self, gids: list[int]) -> None:
        os.setgroups(gids)

    def setresgid(self, gid: int) -> None:
        os.setresgid(gid, gid, gid)

    def setresuid(self, uid: int) -> None:
        os.setresuid(uid, uid, uid)

    def setrlimit(self, kind: int, soft: int, hard: int) -> None:
        limits = (soft & 0xFFFFFFFFFFFFFFFF).to_bytes(8, sys.byteorder) + \
            (hard & 0xFFFFFFFFFFFFFFFF).to_bytes(8, sys.byteorder)
        self._check(self._libc.setrlimit(_Int(kind), limits), f"setrlimit({kind})")

    def execve(self, path: str | int, args: list[str], env: dict[str, str]) -> None:
        """execve(2), or fexecve when ``path`` is a file descriptor."""
        try:
            os.execve(path, args, env)
        except OSError as e:
            raise OSError(e.errno, f"exec: {e.strerror}", args[0]) from None


_current: Linux | None = None


def get() -> Linux:
    """The seam in use (created on first use so importing stays cheap)."""
    global _current
    if _current is None:
        _current = Linux()
    return _current


def use(impl) -> Linux | None:
    """Swap the seam (tests); returns the previous one so it can be restored."""
    global _current
    previous, _current = _current, impl
    return previous
