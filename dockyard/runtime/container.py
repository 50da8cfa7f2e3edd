"""The lifecycle verbs over a state root: create, start, state, kill, delete,
exec, pause/resume, stats, list, ps. The CLI and the supervisor both use this.

Errors are dockyard.errors categories with runc's wording; a failed create
leaves no state directory, cgroup, mount or process behind (ExitStack rollback).
"""
from __future__ import annotations

import os
import select
import time

from dockyard.errors import Conflict, DockyardError, InvalidArgument
from dockyard.runtime import jsonio, spec, state as st
from dockyard.runtime import syscalls as sc
from dockyard.runtime.signals import SIGKILL, parse as parse_signal
from dockyard.runtime.state import Status, StateDir


def _now() -> str:
    """RFC 3339 UTC with nanoseconds, like runc's ``created``."""
    ns = time.time_ns()
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ns // 10**9)) + \
        f".{ns % 10**9:09d}Z"


def _signal(pid: int, number: int) -> None:
    """kill(2), ignoring a process that is already gone."""
    try:
        os.kill(pid, number)
    except ProcessLookupError:
        pass


class Runtime:
    """An OCI runtime over the state directory ``root`` (like ``runc --root``)."""

    def __init__(self, root: str = "/run/dockyard-runtime"):
        self.root = root

    # -- helpers ---------------------------------------------------------------
    def _load(self, container_id: str) -> tuple[StateDir, dict]:
        sd = StateDir(self.root, container_id)
        return sd, sd.load()

    def _cgroup(self, record: dict):
        from dockyard.runtime import cgroups
        info = record["cgroup"]
        return cgroups.manager_for(info["path"], state=info)

    def _status(self, sd: StateDir, record: dict) -> Status:
        status = st.status_of(record, sd.fifo)
        if status is Status.RUNNING and self._cgroup(record).frozen():
            return Status.PAUSED
        return status

    def _hooks(self, sd: StateDir, record: dict, kind: str) -> dict:
        """config.json's hooks, read only if the container has hooks of ``kind``
        (create records which kinds it has: no parse of a config with docker's
        seccomp profile on every start and delete). Older records lack the
        list: read the config."""
        kinds = record.get("hook_kinds")
        if kinds is not None and kind not in kinds:
            return {}
        return self._config(sd).get("hooks") or {}

    def _config(self, sd: StateDir) -> dict:
        with open(os.path.join(sd.path, "config.json"), "rb") as f:
            return jsonio.loads(f.read())

    # -- create ----------------------------------------------------------------
    def create(self, id: str, bundle: str, *, stdio: tuple[int, int, int] | None = None,
               console_socket: str | None = None, pid_file: str | None = None,
               no_pivot: bool = False) -> int:
        """Set up the container; its init waits on the exec fifo until :meth:`start`.

        Returns the init's host pid, a child of the calling process.

        Raises:
            InvalidArgument: bad config (the message names the config.json field).
            AlreadyExists: the ID is in use.
            DockyardError: a syscall failed in the child (syscall and path named).
        """
        from dockyard.runtime.create import create
        return create(self, id, bundle, stdio=stdio, console_socket=console_socket,
                      pid_file=pid_file, no_pivot=no_pivot)

    # -- start / state ------------------------------------------------------------
    def start(self, id: str) -> None:
        """Let a created container's init exec its process; then run poststart hooks."""
        sd, record = self._load(id)
        status = self._status(sd, record)
        if status is Status.STOPPED:
            raise Conflict("cannot start a container that has stopped")
        if status is not Status.CREATED:
            raise Conflict("cannot start an already running container")
        self._release(sd, record)
        hooks = self._hooks(sd, record, "poststart")
        if hooks.get("poststart"):
            from dockyard.runtime.process.hooks import HookError, run
            try:
                run(hooks["poststart"], st.oci_state(record, Status.RUNNING), "poststart")
            except HookError:
                pass  # the spec: a poststart failure is logged, the container runs on

    def _release(self, sd: StateDir, record: dict) -> None:
        """Open the fifo's read end: wakes the init, or notices that it died."""
        fd = os.open(sd.fifo, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
        pidfd = sc.get().pidfd_open(record["pid"])
        try:
            poller = select.poll()
            poller.register(fd, select.POLLIN)
            poller.register(pidfd, select.POLLIN)
            while True:
                ready = dict(poller.poll())
                if ready.get(fd, 0) & select.POLLIN and os.read(fd, 1):
                    break
                if pidfd in ready:
                    raise Conflict("container process is already dead")
        finally:
            os.close(fd)
            os.close(pidfd)
        os.unlink(sd.fifo)

    def state(self, id: str) -> dict:
        """The OCI state object of container ``id``."""
        sd, record = self._load(id)
        return st.oci_state(record, self._status(sd, record))

    def list(self) -> list[dict]:
        """OCI states of every container under the root, sorted by ID."""
        out = []
        for name in sorted(os.listdir(self.root)) if os.path.isdir(self.root) else []:
            try:
                out.append(self.state(name))
            except (DockyardError, OSError):
                continue  # a directory being created or deleted right now
        return out

    def ps(self, id: str) -> list[int]:
        """Host pids of every process in the container's cgroup."""
        _, record = self._load(id)
        return self._cgroup(record).pids()

    # -- signals, delete ---------------------------------------------------------
    def kill(self, id: str, sig: int | str = "SIGTERM", all: bool = False) -> None:
        """Send ``sig`` to the init (or, with ``all``, every process in the cgroup)."""
        sd, record = self._load(id)  # "does not exist" before a bad signal, as runc
        number = parse_signal(sig)
        status = self._status(sd, record)
        if not status.can_kill():
            raise Conflict("container not running")
        cg = self._cgroup(record)
        targets = cg.pids() if all else [record["pid"]]
        for pid in targets:
            _signal(pid, number)
        if status is Status.PAUSED and number == SIGKILL:
            cg.thaw()  # frozen tasks only die once thawed

    def delete(self, id: str, force: bool = False) -> None:
        """Remove a stopped (or, with ``force``, any) container: processes, cgroup,
        state; then run poststop hooks."""
        sd = StateDir(self.root, id)
        if not sd.exists() and os.path.isdir(sd.path):
            sd.remove()  # what a runtime killed mid-create left: no state, no process
            return
        record = sd.load()
        status = self._status(sd, record)
        if status in (Status.RUNNING, Status.PAUSED) and not force:
            raise Conflict(f"cannot delete container {id} that is not stopped: {status.value}")
        cg = self._cgroup(record)
        if status is not Status.STOPPED:
            self._kill_all(record, cg)
        else:
            for pid in cg.pids():  # stragglers of a host-pid-namespace container
                _signal(pid, SIGKILL)
        cg.destroy()
        try:
            hooks = self._hooks(sd, record, "poststop")
        except (OSError, ValueError):
            hooks = {}
        sd.remove()
        if hooks.get("poststop"):
            from dockyard.runtime.process.hooks import run
            run(hooks["poststop"], st.oci_state(record, Status.STOPPED), "poststop")

    def _kill_all(self, record: dict, cg) -> None:
        """SIGKILL every process and wait until the init is gone (no polling: pidfd)."""
        try:
            pidfd = sc.get().pidfd_open(record["pid"])
        except OSError:
            pidfd = None
        for pid in set(cg.pids()) | {record["pid"]}:
            _signal(pid, SIGKILL)
        if cg.frozen():
            cg.thaw()
        if pidfd is not None:
            select.select([pidfd], [], [], 10)
            os.close(pidfd)

    # -- exec, pause, stats ------------------------------------------------------
    def exec(self, id: str, process: dict, *, stdio=None, console_socket: str | None = None,
             pid_file: str | None = None) -> int:
        """Start ``process`` (an OCI process object) inside running container ``id``.

        Returns its host pid (a child of the caller); does not wait for it.
        """
        spec.check_process(process)
        sd, record = self._load(id)
        status = self._status(sd, record)
        if status in (Status.STOPPED, Status.PAUSED):
            raise Conflict(f"cannot exec in a {status.value} container")
        if process.get("terminal") and not console_socket:
            raise InvalidArgument("process.terminal is true but no console socket was given")
        from dockyard.runtime.process import parent
        from dockyard.runtime.process.sync import ChildError
        from dockyard.runtime.process.setup import preload
        config = self._config(sd)
        opts = {"stdio": stdio, "console_socket": console_socket}
        opts.update(preload(config, process))
        try:
            pid = parent.spawn_exec(record["pid"], process, config, opts,
                                    self._cgroup(record))
        except ChildError as e:
            raise DockyardError(f"exec failed: {e}") from None
        if pid_file:
            _write_pid_file(pid_file, pid)
        return pid

    def pause(self, id: str) -> None:
        sd, record = self._load(id)
        if self._status(sd, record) is not Status.RUNNING:
            raise Conflict("container not running")
        self._cgroup(record).freeze()

    def resume(self, id: str) -> None:
        sd, record = self._load(id)
        if self._status(sd, record) is not Status.PAUSED:
            raise Conflict("container not paused")
        self._cgroup(record).thaw()

    def update(self, id: str, resources: dict) -> None:
        """``runc update``: apply OCI ``linux.resources`` to a live container's cgroup
        (the keys given: memory, cpu, pids, blockIO; devices stay as created)."""
        sd, record = self._load(id)
        if self._status(sd, record) is Status.STOPPED:
            raise Conflict(f"container {id} is stopped: cannot update its resources")
        self._cgroup(record).set({k: v for k, v in resources.items() if k != "devices"})

    def stats(self, id: str) -> dict:
        """cgroup numbers: cpu usage (ns), memory usage/max/limit, pids current/limit."""
        _, record = self._load(id)
        return self._cgroup(record).stats()


def _write_pid_file(path: str, pid: int) -> None:
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write(str(pid))
    os.rename(tmp, path)
