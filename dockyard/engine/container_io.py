"""Container I/O: attach (live output + stdin), logs (json-file), exec, resize.

Attach is prepared *before* the HTTP upgrade answer goes out: for a container that is not
running yet (``docker run`` attaches, then starts) the attach waits in ``_pending`` and
``start`` connects it to the supervisor after the runtime created the container but before
its init is released, so not a byte of output is lost.
"""
from __future__ import annotations

import contextlib
import json
import os
import secrets
import threading
from typing import Iterator

from dockyard.engine import container_files as files
from dockyard.engine import spec as ocispec
from dockyard.errors import Conflict, DockyardError, InvalidArgument, NotFound
from dockyard.supervisor import logs as jsonlog
from dockyard.supervisor import protocol as P


class PendingAttach:
    def __init__(self, opts: dict):
        self.opts = opts
        self.stream = None
        self.ready = threading.Event()


class IOMixin:
    # -- attach ------------------------------------------------------------------------
    def attach_prepare(self, ref: str, stdin: bool, stdout: bool, stderr: bool) -> dict:
        """Register interest now (so a following start cannot outrun it)."""
        self._ensure()
        rec = self.get(ref)
        opts = {"stdin": stdin and rec["Config"]["OpenStdin"], "stdout": stdout,
                "stderr": stderr}
        h = {"rec": rec, "opts": opts, "pending": None}
        if rec["State"]["Status"] not in ("running", "paused"):
            h["pending"] = PendingAttach(opts)
            with self._lock:
                self._pending.setdefault(rec["Id"], []).append(h["pending"])
        return h

    def _connect_pending(self, cid: str) -> None:
        with self._lock:
            waiting = self._pending.pop(cid, [])
        for pa in waiting:
            try:
                pa.stream = self.sup.attach(cid, **pa.opts)
            except DockyardError:
                pa.stream = None
            pa.ready.set()

    def attach_stream(self, h: dict):
        """The supervisor stream for a prepared attach (waits for the start if pending)."""
        cid = h["rec"]["Id"]
        pa = h["pending"]
        if pa is None:
            try:
                return self.sup.attach(cid, **h["opts"])
            except NotFound:
                return None
        while not pa.ready.wait(1.0):
            if cid not in self._recs:
                return None
        return pa.stream

    def attach_cancel(self, h: dict) -> None:
        with self._lock:
            lst = self._pending.get(h["rec"]["Id"], [])
            if h["pending"] in lst:
                lst.remove(h["pending"])

    # -- logs --------------------------------------------------------------------------
    def logs(self, ref: str, stdout: bool = True, stderr: bool = True, follow: bool = False,
             since: float = 0, until: float = 0, timestamps: bool = False,
             tail: int | None = None) -> Iterator[tuple[int, bytes]]:
        """(stream, bytes) pairs from the json-file log; ``follow`` ends when it stops."""
        rec = self.get(ref)
        cid = rec["Id"]
        path = rec["LogPath"]
        if (rec["HostConfig"].get("LogConfig") or {}).get("Type") == "none" or not path:
            from dockyard.errors import NotImplementedYet
            raise NotImplementedYet("configured logging driver does not support reading")
        records, offset = jsonlog.read_records(path, tail)
        want = {"stdout": stdout, "stderr": stderr}

        def alive() -> bool:
            r = self._recs.get(cid)
            return bool(r and r["State"]["Running"])

        def gen():
            src, wake = records, None
            try:
                if follow:
                    import itertools
                    wake = self._state_waker(cid)
                    src = itertools.chain(records, jsonlog.follow(path, offset, alive,
                                                                  wake_fd=wake))
                for r in src:
                    out = _log_line(r, want, since, until, timestamps)
                    if out is not None:
                        yield out
            finally:
                if wake is not None:
                    self._drop_waker(cid, wake)
        return gen()

    def _state_waker(self, cid: str) -> int:
        """An eventfd signalled on each state change of ``cid`` (see _signal_state)."""
        fd = os.eventfd(0, os.EFD_CLOEXEC | os.EFD_NONBLOCK)
        with self._lock:
            self._state_fds.setdefault(cid, set()).add(fd)
        return fd

    def _drop_waker(self, cid: str, fd: int) -> None:
        with self._lock:
            fds = self._state_fds.get(cid)
            if fds is not None:
                fds.discard(fd)
                if not fds:
                    del self._state_fds[cid]
        os.close(fd)

    # -- exec --------------------------------------------------------------------------
    def exec_create(self, ref: str, body: dict) -> str:
        rec = self.get(ref)
        if rec["State"]["Status"] == "paused":
            raise Conflict(f"Container {rec['Id']} is paused, unpause the container before exec")
        if not rec["State"]["Running"]:
            raise Conflict(f"Container {rec['Id']} is not running")
        cmd = body.get("Cmd") or []
        if not cmd:
            raise InvalidArgument("No exec command specified")
        eid = secrets.token_hex(32)
        self.execs[eid] = {
            "ID": eid, "ContainerID": rec["Id"], "Running": False, "ExitCode": None, "Pid": 0,
            "OpenStdin": bool(body.get("AttachStdin")), "OpenStdout": bool(body.get("AttachStdout")),
            "OpenStderr": bool(body.get("AttachStderr")), "CanRemove": False,
            "DetachKeys": body.get("DetachKeys") or "",
            "ProcessConfig": {"tty": bool(body.get("Tty")), "entrypoint": cmd[0],
                              "arguments": cmd[1:], "privileged": bool(body.get("Privileged")),
                              "user": body.get("User") or ""},
            "_body": body}
        rec["ExecIDs"] = (rec.get("ExecIDs") or []) + [eid]
        self._emit(f"exec_create: {' '.join(cmd)}", rec, execID=eid)
        return eid

    def exec_get(self, eid: str) -> dict:
        ex = self.execs.get(eid)
        if ex is None:
            raise NotFound(f"No such exec instance: {eid}")
        return ex

    def exec_inspect(self, eid: str) -> dict:
        return {k: v for k, v in self.exec_get(eid).items() if not k.startswith("_")}

    def exec_start(self, eid: str, detach: bool = False, tty: bool | None = None):
        """Run it; returns the supervisor stream when attached (None when detached)."""
        self._ensure()
        ex = self.exec_get(eid)
        if ex["Running"] or ex["ExitCode"] is not None:
            raise Conflict(f"Error: Exec command {eid} has already run")
        rec = self.get(ex["ContainerID"])
        if not rec["State"]["Running"]:
            raise Conflict(f"Container {rec['Id']} is not running")
        body = ex["_body"]
        tty = ex["ProcessConfig"]["tty"] if tty is None else tty
        proc = self._exec_process(rec, body, tty)
        reply, stream = self.sup.exec(rec["Id"], eid, proc, tty=tty, stdin=ex["OpenStdin"],
                                      attach=not detach)
        ex.update(Running=True, Pid=reply.get("pid", 0))
        self._emit(f"exec_start: {' '.join(body['Cmd'])}", rec, execID=eid)
        return stream

    def _exec_process(self, rec: dict, body: dict, tty: bool) -> dict:
        p = files.Paths(self.engine, rec["Id"])
        with open(p.config) as f:
            base = json.load(f)["process"]
        env = ocispec.merge_env([e for e in base["env"]], body.get("Env") or [])
        user = base["user"]
        if body.get("User"):
            user = ocispec.resolve_user(p.rootfs, body["User"])
        caps = ocispec.all_caps() if body.get("Privileged") else base["capabilities"]["bounding"]
        return {"terminal": tty, "user": user, "args": body["Cmd"],
                "env": [f"{k}={v}" for k, v in env.items()],
                "cwd": body.get("WorkingDir") or base["cwd"],
                "capabilities": {k: caps for k in ("bounding", "effective", "permitted")},
                "noNewPrivileges": base.get("noNewPrivileges", False)}

    def exec_exited(self, eid: str, code: int | None) -> None:
        """Record an exec's exit as soon as its stream ends (before the client asks)."""
        ex = self.execs.get(eid)
        if ex is not None and ex["Running"]:
            ex.update(Running=False, ExitCode=code, Pid=0)

    def _on_exec_event(self, ev: dict) -> None:
        ex = self.execs.get(ev["id"])
        if ex is None or ev.get("event") != "exit":
            return
        ex.update(Running=False, ExitCode=ev.get("exit_code"), Pid=0)
        with contextlib.suppress(NotFound):
            self._emit("exec_die", self.get(ex["ContainerID"]), execID=ev["id"],
                       exitCode=str(ev.get("exit_code")))
        with self._lock:
            self._cond.notify_all()

    def resize(self, ref_or_exec: str, h: int, w: int, exec_: bool = False) -> None:
        target = self.exec_get(ref_or_exec)["ID"] if exec_ else self.get(ref_or_exec)["Id"]
        try:
            self.sup.call("resize", id=target, h=h, w=w)
        except NotFound:
            if exec_:
                return
            raise Conflict(f"cannot resize container {ref_or_exec}: not running") from None


def _log_line(r: dict, want: dict, since: float, until: float, timestamps: bool):
    stream = r.get("stream", "stdout")
    if not want.get(stream, False):
        return None
    if since or until:
        t = jsonlog.parse_time(r["time"]) if r.get("time") else 0
        if (since and t < since) or (until and t > until):
            return None
    data = r.get("log", "").encode()
    if timestamps:
        data = (r.get("time", "") + " ").encode() + data
    return (P.STDOUT if stream == "stdout" else P.STDERR), data
