"""The parent side of start-up: fork the intermediate, drive the protocol, and
return the host pid of the container process (a child of the caller, thanks to
CLONE_PARENT in the intermediate).

On any failure the half-made process is killed and reaped before the error is
raised, so nothing is left running.
"""
from __future__ import annotations

import _socket
import gc
import os

from dockyard.runtime import syscalls as sc
from dockyard.runtime.process import init as child
from dockyard.runtime.process import sync


def _reap(pid: int) -> None:
    try:
        os.waitpid(pid, 0)
    except ChildProcessError:
        pass  # a reaper thread of the caller got it first


def _kill(pid: int) -> None:
    try:
        os.kill(pid, 9)  # SIGKILL
    except ProcessLookupError:
        return
    _reap(pid)


def _dup_stdio(stdio: tuple[int, int, int] | None) -> None:
    """Put the caller's chosen fds on 0, 1, 2 (dup high first: they may overlap)."""
    if stdio is None:
        return
    high = [os.dup(fd) for fd in stdio]
    for target, fd in enumerate(high):
        os.dup2(fd, target)
        os.close(fd)


def _connect_console(path: str | None) -> _socket.socket | None:
    if path is None:
        return None
    sock = _socket.socket(_socket.AF_UNIX, _socket.SOCK_STREAM)
    try:
        sock.connect(path)
    except OSError as e:
        sock.close()
        raise OSError(e.errno, f"connect console socket: {e.strerror}", path) from None
    return sock


def _close_parent_copies(chan: sync.Channel, console, opts: dict) -> None:
    """After fork the child has its own copies of these; ours must not linger."""
    chan.close()
    if console is not None:
        console.close()
    for key in ("trampoline_fd", "fifo_fd"):
        if opts.get(key) is not None:
            os.close(opts[key])
    for fd in opts.pop("cgroup_fds", None) or ():
        os.close(fd)


def _open_cgroup(cgroup, opts: dict) -> None:
    """Before the fork: the files through which the child joins its cgroup
    itself (v1), or nothing, and then :func:`_join` moves it from outside (v2)."""
    fds = cgroup.join_files()
    opts["cgroup_fds"] = fds
    opts["cgroup_self_join"] = fds is not None


def _after_fork(opts: dict, init_pid: int) -> None:
    """The caller's own work that needs no child, done while the child works
    (``opts["after_fork"](init_pid)``); an error kills the child like any other."""
    work = opts.pop("after_fork", None)
    if work is not None:
        work(init_pid)


def _join(cgroup, pid: int, opts: dict) -> None:
    """Put the forked child in the container's cgroup unless it does so itself."""
    if not opts.get("cgroup_self_join"):
        cgroup.apply(pid)


def _start(target, opts: dict, args: tuple, before_fork=None) -> tuple[sync.Channel, int]:
    """Open the channel (and console socket), fork the intermediate running
    ``target(channel, *args)``; our copies of the child's fds are closed either way."""
    parent, chan, console = *sync.Channel.pair(), None
    try:
        console = _connect_console(opts.get("console_socket"))
        if console is not None:
            opts["console_fd"] = console.fileno()
        if before_fork:
            before_fork()
        return parent, _fork(target, chan, parent, opts.get("stdio"), *args)
    except BaseException:
        parent.close()
        raise
    finally:
        _close_parent_copies(chan, console, opts)


def _fork(target, chan_child: sync.Channel, chan_parent: sync.Channel, stdio, *args) -> int:
    """Fork the intermediate; in the child, fix up fds and run ``target`` (no return)."""
    pid = os.fork()
    if pid == 0:
        gc.disable()  # the child ends in exec or _exit: a collection would only
        try:          # dirty copy-on-write pages
            chan_parent.close()
            _dup_stdio(stdio)
        except BaseException as e:  # noqa: BLE001
            chan_child.send_error(e)
            os._exit(1)
        target(chan_child, *args)
        os._exit(0)  # not reached: target always exits
    return pid


def spawn_init(config: dict, opts: dict, cgroup, usermap, hooks_cb) -> int:
    """Create the container init; return its host pid once it is READY.

    The intermediate (or the directly forked init) is in the container's cgroup
    before it clones anything: it moves itself in through the files
    ``cgroup.join_files()`` opened (v1), or we ``cgroup.apply(pid)`` it (v2).
    ``usermap(pid)`` writes uid/gid maps; ``hooks_cb(pid)`` runs the
    runtime-side hooks and returns the state the container-side hooks get;
    ``opts["after_fork"](init_pid)``, if given, runs once the init's pid is
    known, while the child works.
    """
    def open_fifo() -> None:
        # O_PATH: opening it does not count as a writer; the init re-opens it via /proc
        opts["fifo_fd"] = os.open(opts["fifo"], os.O_PATH | os.O_CLOEXEC)
        _open_cgroup(cgroup, opts)
    if _can_fork_directly(config):
        return _spawn_direct(config, opts, cgroup, hooks_cb, open_fifo)
    parent, ipid = _start(child.intermediate, opts, (config, opts), open_fifo)
    init_pid = 0
    try:
        _join(cgroup, ipid, opts)
        parent.send(sync.JOINED)
        msg = parent.wait_any()
        if msg["type"] == sync.USERMAP:
            usermap(ipid)
            parent.send(sync.MAPPED)
            msg = parent.wait_for(sync.PID)
        init_pid = msg["pid"]
        _after_fork(opts, init_pid)
        msg = parent.wait_any()
        if msg["type"] == sync.HOOKS:
            parent.send(sync.HOOKS_DONE, state=hooks_cb(init_pid))
            msg = parent.wait_for(sync.READY)
        elif msg["type"] != sync.READY:
            raise sync.ChildError(f"protocol error: unexpected {msg['type']!r}")
        _reap(ipid)  # only now: it exited long ago, so this does not wait
        return init_pid
    except BaseException:
        _kill(init_pid) if init_pid else None
        _kill(ipid)
        raise
    finally:
        parent.close()


def _can_fork_directly(config: dict) -> bool:
    """Without a user namespace, and in a single-threaded caller (the CLI), the
    init can be forked straight into its pid namespace: no intermediate.

    That needs our own pid_for_children switched for a moment, which another
    thread forking at the same time would also get; so only with one thread.
    """
    if any(ns["type"] == "user" for ns in config["linux"].get("namespaces", [])):
        return False
    try:
        return len(os.listdir("/proc/self/task")) == 1
    except OSError:
        return False


def _spawn_direct(config: dict, opts: dict, cgroup, hooks_cb, before_fork) -> int:
    """Fork the init as our child inside its new (or joined) pid namespace."""
    pidns = {ns["type"]: ns.get("path") for ns in config["linux"].get("namespaces", [])}
    own = os.open("/proc/self/ns/pid", os.O_RDONLY | os.O_CLOEXEC)
    sys_ = sc.get()
    try:
        if "pid" in pidns and pidns["pid"]:
            child.join_namespaces({"pid": pidns["pid"]})
        elif "pid" in pidns:
            sys_.unshare(sc.CLONE_NEWPID)
        parent, pid = _start(child.direct_init, opts, (config, opts), before_fork)
    finally:
        sys_.setns(own, sc.CLONE_NEWPID, "/proc/self/ns/pid")  # our next child is ours again
        os.close(own)
    try:
        _join(cgroup, pid, opts)
        parent.send(sync.JOINED)
        _after_fork(opts, pid)
        msg = parent.wait_any()
        if msg["type"] == sync.HOOKS:
            parent.send(sync.HOOKS_DONE, state=hooks_cb(pid))
            msg = parent.wait_for(sync.READY)
        elif msg["type"] != sync.READY:
            raise sync.ChildError(f"protocol error: unexpected {msg['type']!r}")
        return pid
    except BaseException:
        _kill(pid)
        raise
    finally:
        parent.close()


def spawn_exec(target: int, process: dict, config: dict, opts: dict, cgroup) -> int:
    """Start ``process`` inside the namespaces of ``target``; return its host pid.

    Returns once the process has exec'd (the channel reaches end-of-file), or
    raises the error it reported.
    """
    parent, ipid = _start(child.exec_intermediate, opts, (target, process, config, opts),
                          lambda: _open_cgroup(cgroup, opts))
    pid = 0
    try:
        _join(cgroup, ipid, opts)
        parent.send(sync.JOINED)
        pid = parent.wait_for(sync.PID)["pid"]
        _reap(ipid)
        msg = parent.recv()
        if msg is not None:
            if msg["type"] == sync.ERROR:
                raise sync.ChildError(msg["message"], msg.get("errno", 0))
            raise sync.ChildError(f"protocol error: unexpected {msg['type']!r}")
        return pid
    except BaseException:
        _kill(pid) if pid else None
        _kill(ipid)
        raise
    finally:
        parent.close()
