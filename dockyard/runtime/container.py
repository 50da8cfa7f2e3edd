"""The lifecycle verbs over a state root: create, start, state, kill, delete,
exec, pause/resume, stats, list, ps. The CLI and the supervisor both use this.

Errors are dockyard.errors categories with runc's wording; a failed create
leaves no state directory, cgroup, mount or process behind (ExitStack rollback).
"""
from __future__ import annotations

import contextlib
import datetime
import json
import os
import select
import signal

from dockyard.errors import Conflict, DockyardError, InvalidArgument, NotFound
from dockyard.runtime import spec, state as st
from dockyard.runtime import syscalls as sc
from dockyard.runtime.state import Status, StateDir


def parse_signal(sig: int | str) -> int:
    """``9``, ``"9"``, ``"KILL"`` or ``"SIGKILL"`` → 9; anything else is InvalidArgument."""
    if isinstance(sig, int) and not isinstance(sig, bool):
        number = sig
    elif isinstance(sig, str) and sig.isdigit():
        number = int(sig)
    elif isinstance(sig, str):
        name = sig.upper()
        name = name if name.startswith("SIG") else "SIG" + name
        member = getattr(signal.Signals, name, None) if name.isidentifier() else None
        if member is None:
            raise InvalidArgument(f"unknown signal {sig!r}")
        number = int(member)
    else:
        raise InvalidArgument(f"unknown signal {sig!r}")
    if not 0 < number < 65:
        raise InvalidArgument(f"unknown signal {sig!r}")
    return number


def _now() -> str:
    return datetime.datetime.now(datetime.timezone.utc).isoformat().replace("+00:00", "Z")


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

    def _config(self, sd: StateDir) -> dict:
        with open(os.path.join(sd.path, "config.json"), "rb") as f:
            return json.loads(f.read())

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
        hooks = self._config(sd).get("hooks") or {}
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
            with contextlib.suppress(DockyardError, OSError):
                out.append(self.state(name))
        return out

    def ps(self, id: str) -> list[int]:
        """Host pids of every process in the container's cgroup."""
        _, record = self._load(id)
        return self._cgroup(record).pids()

    # -- signals, delete ---------------------------------------------------------
    def kill(self, id: str, sig: int | str = "SIGTERM", all: bool = False) -> None:
        """Send ``sig`` to the init (or, with ``all``, every process in the cgroup)."""
        number = parse_signal(sig)
        sd, record = self._load(id)
        status = self._status(sd, record)
        if not status.can_kill():
            raise Conflict("container not running")
        cg = self._cgroup(record)
        targets = cg.pids() if all else [record["pid"]]
        for pid in targets:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, number)
        if status is Status.PAUSED and number == signal.SIGKILL:
            cg.thaw()  # frozen tasks only die once thawed

    def delete(self, id: str, force: bool = False) -> None:
        """Remove a stopped (or, with ``force``, any) container: processes, cgroup,
        state; then run poststop hooks."""
        sd, record = self._load(id)
        status = self._status(sd, record)
        if status in (Status.RUNNING, Status.PAUSED) and not force:
            raise Conflict(f"cannot delete container {id} that is not stopped: {status.value}")
        cg = self._cgroup(record)
        if status is not Status.STOPPED:
            self._kill_all(record, cg)
        else:
            for pid in cg.pids():  # stragglers of a host-pid-namespace container
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
        cg.destroy()
        hooks = {}
        with contextlib.suppress(OSError, ValueError):
            hooks = self._config(sd).get("hooks") or {}
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
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        with contextlib.suppress(OSError):
            cg.thaw() if cg.frozen() else None
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

    def stats(self, id: str) -> dict:
        """cgroup numbers: cpu usage (ns), memory usage/max/limit, pids current/limit."""
        _, record = self._load(id)
        return self._cgroup(record).stats()


def _write_pid_file(path: str, pid: int) -> None:
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write(str(pid))
    os.rename(tmp, path)
