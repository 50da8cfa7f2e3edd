"""Code that runs in the forked children: the intermediate (I) and the init (C).

Nothing here returns: each entry point ends in exec or ``os._exit``. Every
error is sent to the parent over the channel (with the syscall and path) and
the child exits 1. See :mod:`dockyard.runtime.process.sync` for the exchange.
"""
from __future__ import annotations

import os

from dockyard.runtime import syscalls as sc
from dockyard.runtime.cgroups.base import join_self
# imported here, in the parent, not lazily in the child: a forked child's imports
# are lost with it, so a long-lived caller would pay them for every container
from dockyard.runtime.linux import rootfs, trampoline  # noqa: F401
from dockyard.runtime.process import sync
from dockyard.runtime.process.setup import (exec_process, finalize_process,
                                            load_console_modules, open_fifo_path,
                                            resolve_executable, run_hooks_here)

NS_FLAGS = {
    "pid": sc.CLONE_NEWPID, "network": sc.CLONE_NEWNET, "mount": sc.CLONE_NEWNS,
    "ipc": sc.CLONE_NEWIPC, "uts": sc.CLONE_NEWUTS, "user": sc.CLONE_NEWUSER,
    "cgroup": sc.CLONE_NEWCGROUP,
}
NS_FILES = {"pid": "pid", "network": "net", "mount": "mnt", "ipc": "ipc", "uts": "uts",
            "user": "user", "cgroup": "cgroup"}
# join order: the user namespace first (it owns the others), mount last (after it
# host paths like /proc/<pid>/ns are no longer reachable)
JOIN_ORDER = ("user", "ipc", "uts", "network", "pid", "cgroup", "mount")


def _guard(chan: sync.Channel, fn, *args) -> None:
    """Run ``fn``; report any exception to the parent; never return."""
    try:
        fn(chan, *args)
    except BaseException as e:  # noqa: BLE001 - everything must reach the parent
        try:
            chan.send_error(e)
        except OSError:  # the parent stopped listening (after READY): use stderr
            os.write(2, f"dockyard-runtime: {sync.error_message(e)}\n".encode())
        finally:
            os._exit(1)
    os._exit(0)


def join_namespaces(paths: dict[str, str]) -> None:
    """setns into each ``{type: path}``, in JOIN_ORDER."""
    sys_ = sc.get()
    fds = {}
    try:
        for kind in JOIN_ORDER:
            if kind in paths:
                fds[kind] = os.open(paths[kind], os.O_RDONLY | os.O_CLOEXEC)
        for kind in JOIN_ORDER:
            if kind in fds:
                sys_.setns(fds[kind], NS_FLAGS[kind], paths[kind])
    finally:
        for fd in fds.values():
            os.close(fd)


def _join_cgroup(opts: dict) -> None:
    """Move ourselves into the container's cgroup first of all (before any
    namespace, fork or allocation worth accounting), where the parent opened
    the cgroup files for us (v1; on v2 the parent moves us, before JOINED)."""
    fds = opts.pop("cgroup_fds", None)
    if fds:
        join_self(fds)


def intermediate(chan: sync.Channel, config: dict, opts: dict) -> None:
    """I: join/create namespaces, then clone the init as the caller's child."""
    _guard(chan, _intermediate, config, opts)


def _intermediate(chan: sync.Channel, config: dict, opts: dict) -> None:
    sys_ = sc.get()
    # not dumpable until the container's program is exec'd: nothing in the
    # container may ptrace us or open /proc/<pid>/exe (the host interpreter)
    sys_.prctl(sc.PR_SET_DUMPABLE, 0)
    _join_cgroup(opts)
    wanted = {ns["type"]: ns.get("path") for ns in config["linux"].get("namespaces", [])}
    join_namespaces({k: v for k, v in wanted.items() if v})
    new = [k for k, v in wanted.items() if not v]
    flags = 0
    for kind in new:
        if kind not in ("user", "cgroup"):
            flags |= NS_FLAGS[kind]
    if "user" in new:
        sys_.unshare(sc.CLONE_NEWUSER)
        chan.send(sync.USERMAP)
        chan.wait_for(sync.JOINED)
        chan.wait_for(sync.MAPPED)
        sys_.setresgid(0)
        sys_.setresuid(0)
        if flags:  # created after the mapping: owned by the new user namespace
            sys_.unshare(flags)
    else:
        if flags:  # meanwhile the parent moves us into the cgroup (slow on v1)
            sys_.unshare(flags)
        chan.wait_for(sync.JOINED)
    if "cgroup" in new:  # only once we are in our cgroup: it becomes the ns root
        sys_.unshare(sc.CLONE_NEWCGROUP)
    pid = sys_.clone_parent()
    if pid == 0:
        _guard(chan, container_init, config, opts)
    chan.send(sync.PID, pid=pid)


def direct_init(chan: sync.Channel, config: dict, opts: dict) -> None:
    """C forked straight into its pid namespace (no user namespace): set up the
    other namespaces ourselves, then become the container."""
    _guard(chan, _direct_init, config, opts)


def _direct_init(chan: sync.Channel, config: dict, opts: dict) -> None:
    sys_ = sc.get()
    sys_.prctl(sc.PR_SET_DUMPABLE, 0)
    _join_cgroup(opts)
    wanted = {ns["type"]: ns.get("path") for ns in config["linux"].get("namespaces", [])}
    join_namespaces({k: v for k, v in wanted.items() if v and k != "pid"})
    flags = 0
    for kind, path in wanted.items():
        if not path and kind not in ("pid", "cgroup"):
            flags |= NS_FLAGS[kind]
    if flags:  # meanwhile the parent moves us into the cgroup
        sys_.unshare(flags)
    chan.wait_for(sync.JOINED)
    if "cgroup" in wanted and not wanted["cgroup"]:
        sys_.unshare(sc.CLONE_NEWCGROUP)
    container_init(chan, config, opts)


def container_init(chan: sync.Channel, config: dict, opts: dict) -> None:
    """C: build the container around itself, report READY, wait for start, exec."""
    wanted = {ns["type"]: ns.get("path") for ns in config["linux"].get("namespaces", [])}
    own_mount_ns = "mount" in wanted and not wanted["mount"]
    if own_mount_ns:
        rootfs.prepare(config, opts["cgroup_mounter"], "user" in wanted)
    hooks = config.get("hooks") or {}
    state = None
    if any(hooks.get(k) for k in ("prestart", "createRuntime", "createContainer",
                                  "startContainer")):
        chan.send(sync.HOOKS)  # the parent runs its hooks and tells us our state
        state = chan.wait_for(sync.HOOKS_DONE)["state"]
    run_hooks_here(hooks.get("createContainer"), state)
    fifo = opts["fifo_fd"]  # opened by the parent: the path may be out of our reach
    if config["process"].get("terminal"):
        load_console_modules()
    if own_mount_ns:
        rootfs.pivot(config["root"]["path"], opts.get("no_pivot", False))
    _names(config, wanted)
    if own_mount_ns:
        rootfs.finish(config)
    process = config["process"]
    finalize_process(process, config, opts, keep=(chan.fileno(), fifo))
    path = resolve_executable(process)
    chan.send(sync.READY)
    chan.close()
    fd = open_fifo_path(fifo)
    os.write(fd, b"0")
    os.close(fd)
    run_hooks_here(hooks.get("startContainer"), state)
    try:
        exec_process(path, process, config, opts)
    except OSError as e:  # the parent is gone by now: tell the container's stderr
        os.write(2, f"dockyard-runtime: {sync.error_message(e)}\n".encode())
        os._exit(127)


def _names(config: dict, wanted: dict) -> None:
    sys_ = sc.get()
    if config.get("hostname"):
        if "uts" not in wanted:
            raise OSError(1, "sethostname: unable to set hostname without a private UTS "
                             "namespace", None)
        sys_.sethostname(config["hostname"])
    if config.get("domainname"):
        sys_.setdomainname(config["domainname"])


def exec_intermediate(chan: sync.Channel, target: int, process: dict, config: dict,
                      opts: dict) -> None:
    """I for ``exec``: join every namespace of ``target``, clone the process."""
    _guard(chan, _exec_intermediate, target, process, config, opts)


def _exec_intermediate(chan: sync.Channel, target: int, process: dict, config: dict,
                       opts: dict) -> None:
    sys_ = sc.get()
    # not dumpable until exec: the container cannot ptrace us or open our
    # /proc/<pid>/exe (the host interpreter) while we run runtime code
    sys_.prctl(sc.PR_SET_DUMPABLE, 0)
    _join_cgroup(opts)
    chan.wait_for(sync.JOINED)
    paths = {}
    for kind, name in NS_FILES.items():
        theirs = f"/proc/{target}/ns/{name}"
        try:
            if os.stat(theirs).st_ino != os.stat(f"/proc/self/ns/{name}").st_ino:
                paths[kind] = theirs
        except FileNotFoundError:
            continue
    join_namespaces(paths)
    pid = sys_.clone_parent()
    if pid == 0:
        _guard(chan, _exec_process, process, config, opts)
    chan.send(sync.PID, pid=pid)


def _exec_process(chan: sync.Channel, process: dict, config: dict, opts: dict) -> None:
    sc.get().prctl(sc.PR_SET_DUMPABLE, 0)
    finalize_process(process, config, opts, keep=(chan.fileno(),))
    path = resolve_executable(process)
    # the channel is close-on-exec: the parent sees EOF once we have exec'd
    exec_process(path, process, config, opts)
