"""``create``: check the bundle, make state + fifo + cgroup, spawn the init.

Every step registers its undo on an ExitStack; ``pop_all()`` once the init is
READY, so a failure anywhere leaves nothing behind.
"""
from __future__ import annotations

import os

from dockyard.errors import DockyardError, InvalidArgument
from dockyard.runtime import jsonio, spec
from dockyard.runtime import state as st
from dockyard.runtime.state import Status, StateDir


def cgroups_path(config: dict, container_id: str) -> str:
    """linux.cgroupsPath, default ``/dockyard/<id>``; systemd slices are refused."""
    path = (config.get("linux") or {}).get("cgroupsPath") or f"/dockyard/{container_id}"
    if ":" in path:
        raise InvalidArgument(f"config.json: linux.cgroupsPath: {path!r}: systemd cgroup "
                              "paths are not supported (use a cgroupfs path)")
    if ".." in path.split("/"):
        raise InvalidArgument(f"config.json: linux.cgroupsPath: {path!r}: must not contain ..")
    return "/" + path.lstrip("/")


def precheck(config: dict, console_socket: str | None) -> None:
    """Checks that need more than the JSON shape; all before anything is created."""
    from dockyard.runtime.linux import caps
    process = config.get("process")
    if process is None:
        raise InvalidArgument("config.json: process: is required to create a container")
    caps.masks(process.get("capabilities"))
    seccomp = (config.get("linux") or {}).get("seccomp")
    if seccomp:
        from dockyard.runtime.linux.seccomp import check
        check(seccomp)
    if process.get("terminal") and not console_socket:
        raise InvalidArgument("config.json: process.terminal is true but no --console-socket "
                              "was given")
    if console_socket and not process.get("terminal"):
        raise InvalidArgument("--console-socket given but process.terminal is false")


def _write_maps(pid: int, linux: dict) -> None:
    for key, name in (("uidMappings", "uid_map"), ("gidMappings", "gid_map")):
        lines = "".join(f"{m['containerID']} {m['hostID']} {m['size']}\n"
                        for m in linux.get(key) or [])
        if not lines:
            continue
        path = f"/proc/{pid}/{name}"
        try:
            with open(path, "w") as f:
                f.write(lines)
        except OSError as e:
            raise OSError(e.errno, f"write {name}: {e.strerror}", path) from None


def create(runtime, container_id: str, bundle: str, *, stdio=None, console_socket=None,
           pid_file=None, no_pivot=False) -> int:
    """Check everything, then make state, fifo and cgroup, and spawn the init."""
    from dockyard.runtime import cgroups
    sd = StateDir(runtime.root, container_id)
    if sd.exists():
        from dockyard.errors import AlreadyExists
        raise AlreadyExists(f"container with id exists: {container_id}")
    bundle = os.path.abspath(bundle)
    config = spec.load(bundle)
    precheck(config, console_socket)
    cg = cgroups.manager_for(cgroups_path(config, container_id))
    record = {"id": container_id, "bundle": bundle, "rootfs": config["root"]["path"],
              "created": st_now(), "annotations": config.get("annotations") or {},
              "pid": 0, "start_time": None,
              "hook_kinds": sorted(k for k, v in (config.get("hooks") or {}).items() if v)}
    opts = {"stdio": stdio, "console_socket": console_socket, "fifo": sd.fifo,
            "no_pivot": no_pivot, "cgroup_mounter": _mounter(cg, config),
            # done while the forked init builds its rootfs (see _while_child_works)
            "after_fork": lambda pid: _while_child_works(sd, config, record, pid)}
    undo: list = []  # rollback steps, run last-first unless we get to the end
    try:
        _make_state(sd, config, cg, record, undo)
        pid = _spawn(config, opts, cg, record)
        undo.append(lambda: _kill(pid))
        if record["pid"] != pid:  # not staged (cannot happen: the protocol stages it)
            record["pid"], record["start_time"] = pid, st.proc_start_time(pid)
            sd.stage(record)
        sd.commit()  # the container exists for readers only now, once it is READY
        if pid_file:
            from dockyard.runtime.container import _write_pid_file
            _write_pid_file(pid_file, pid)
    except BaseException:
        for step in reversed(undo):
            try:
                step()
            except Exception:  # noqa: BLE001 - keep undoing; the first error wins
                pass
        raise
    return pid


def _make_state(sd: StateDir, config: dict, cg, record: dict, undo: list) -> None:
    """State dir with the exec fifo, the cgroup with limits (our copy of the
    config is written by :func:`_save_config` while the init sets itself up)."""
    sd.make()
    undo.append(sd.remove)
    os.mkfifo(sd.fifo, 0o622)
    os.chmod(sd.fifo, 0o622)  # past the umask: a mapped (user-ns) root must write it
    undo.append(cg.destroy)
    cg.create()
    cg.set((config.get("linux") or {}).get("resources") or {})
    record["cgroup"] = cg.to_state()


def _while_child_works(sd: StateDir, config: dict, record: dict, pid: int) -> None:
    """The parent's file writes, done while the init sets itself up (they need
    no child, and a file create is 0.5-2 ms on a loaded ext4): our copy of
    config.json (start, exec and delete read it later) and the state record,
    staged under a temporary name and renamed into place once the init is
    READY, so a reader never sees a container that is still being made."""
    with open(os.path.join(sd.path, "config.json"), "w") as f:
        f.write(jsonio.dumps(config))
    record["pid"], record["start_time"] = pid, st.proc_start_time(pid)
    sd.stage(record)


def _spawn(config: dict, opts: dict, cg, record: dict) -> int:
    """Run the start-up protocol; a child's failure becomes a DockyardError."""
    from dockyard.runtime.process import parent
    from dockyard.runtime.process.setup import preload
    from dockyard.runtime.process.sync import ChildError
    opts.update(preload(config, config["process"]))
    try:
        return parent.spawn_init(config, opts, cg, lambda p: _write_maps(p, config["linux"]),
                                 lambda pid: _runtime_hooks(config, record, pid))
    except ChildError as e:
        raise DockyardError(f"container init failed: {e}") from None


def st_now() -> str:
    from dockyard.runtime.container import _now
    return _now()


def _kill(pid: int) -> None:
    try:
        os.kill(pid, 9)  # SIGKILL
        os.waitpid(pid, 0)
    except (ProcessLookupError, ChildProcessError):
        pass


def _mounter(cg, config: dict):
    """The cgroup-mount callback the init uses for ``type: cgroup`` mounts."""
    cgroupns = any(ns["type"] == "cgroup" and not ns.get("path")
                   for ns in config["linux"].get("namespaces", []))

    def mount(dest: str, flags: int) -> None:
        cg.mount_into(dest, flags, cgroupns)
    return mount


def _runtime_hooks(config: dict, record: dict, pid: int) -> dict:
    """prestart + createRuntime hooks (runtime namespace); returns the hook state."""
    from dockyard.runtime.process.hooks import run
    record = dict(record, pid=pid)
    state = st.oci_state(record, Status.CREATING)
    state["pid"] = pid
    hooks = config.get("hooks") or {}
    run(hooks.get("prestart"), state, "prestart")
    run(hooks.get("createRuntime"), state, "createRuntime")
    return state
