"""dockyardd's side of the supervisor protocol (see :mod:`dockyard.supervisor.protocol`).

``SupervisorClient(exec_root, runtime).ensure()`` connects, starting the supervisor first
when nothing answers (it daemonizes itself, so it outlives dockyardd). Each request uses its
own short connection; ``attach``/``exec``/``subscribe`` keep theirs as a stream.
"""
from __future__ import annotations

import contextlib
import logging
import os
import socket
import subprocess
import sys
import threading
from typing import Iterator

from dockyard import errors
from dockyard.supervisor import protocol as P

log = logging.getLogger("dockyard.supervisor")


class SupervisorClient:
    def __init__(self, exec_root: str, runtime: str = "dockyard"):
        self.exec_root = exec_root
        self.runtime = runtime
        self.path = os.path.join(exec_root, "supervisor.sock")
        self._lock = threading.Lock()

    def ensure(self) -> None:
        """Connect, or start the supervisor and then connect."""
        with self._lock:
            try:
                if self._current(self.call("ping")):
                    return
            except errors.Unavailable:
                pass
            cmd = [sys.executable, "-m", "dockyard.supervisor.server",
                   "--exec-root", self.exec_root, "--runtime", self.runtime]
            res = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True)
            if res.returncode != 0:
                raise errors.Unavailable("cannot start the supervisor: "
                                         + res.stderr.decode(errors="replace").strip()[-500:])
            self.call("ping")

    def _current(self, info: dict) -> bool:
        """True if the running supervisor runs this code and runtime, or cannot be
        replaced (it holds containers: they keep it, and a warning says so). An idle one
        with other code is retired, and False tells the caller to start a new one."""
        from dockyard.supervisor.codeid import code_id
        if info.get("code") == code_id() and info.get("runtime", self.runtime) == self.runtime:
            return True
        procs = info.get("procs")
        if procs is None:  # a supervisor from before "procs" was in ping's reply
            procs = len(self.call("list").get("procs") or [])
        if procs:
            log.warning("supervisor pid %s runs other code or runtime (%s) than this daemon; "
                        "it keeps its %s containers and execs, new ones use it too",
                        info.get("pid"), info.get("runtime"), procs)
            return True
        log.info("supervisor pid %s runs other code: replacing it (it is idle)", info.get("pid"))
        try:
            self.call("retire")
        except errors.DockyardError:
            pass  # it may exit before the reply reaches us, or not know "retire" yet
        if not _wait_gone(info.get("pid"), 2.0) and info.get("pid"):
            import signal
            with contextlib.suppress(ProcessLookupError):
                os.kill(info["pid"], signal.SIGTERM)  # its SIGTERM handler ends the loop
            _wait_gone(info["pid"], 5.0)
        return False

    def _connect(self) -> socket.socket:
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            s.connect(self.path)
        except OSError as e:
            s.close()
            raise errors.Unavailable(f"supervisor at {self.path}: {e.strerror}") from None
        return s

    def call(self, op: str, **kw) -> dict:
        """One request, one reply; a failure raises the dockyard.errors class it names."""
        with self._connect() as s:
            s.sendall(P.encode({"op": op, **kw}))
            return _read_reply(s.makefile("rb"))

    def wait(self, id: str) -> dict:
        """Block until the process exits (pushed by the supervisor, not polled)."""
        return self.call("wait", id=id)

    def attach(self, id: str, **streams) -> "Stream":
        return self._stream("attach", id=id, **streams)

    def exec(self, container: str, exec_id: str, process: dict, *, tty: bool, stdin: bool,
             attach: bool) -> tuple[dict, "Stream | None"]:
        msg = dict(container=container, id=exec_id, process=process, tty=tty, stdin=stdin,
                   attach=attach)
        if not attach:
            return self.call("exec", **msg), None
        st = self._stream("exec", **msg)
        return st.reply, st

    def _stream(self, op: str, **kw) -> "Stream":
        s = self._connect()
        s.sendall(P.encode({"op": op, **kw}))
        f = s.makefile("rb", buffering=0)
        try:
            reply = _read_reply(f)
        except BaseException:
            s.close()
            raise
        return Stream(s, f, reply)

    def subscribe(self) -> tuple[list[dict], Iterator[dict]]:
        """The processes held now, then every event as it happens (the iterator ends when
        the supervisor goes away)."""
        s = self._connect()
        s.sendall(P.encode({"op": "subscribe"}))
        f = s.makefile("rb")
        first = _read_reply(f)

        def events() -> Iterator[dict]:
            with s:
                for line in f:
                    yield P.decode(line)
        return first.get("procs", []), events()


class Stream:
    """An attach/exec stream: frames out, stdin in."""

    def __init__(self, sock: socket.socket, f, reply: dict):
        self.sock, self.f, self.reply = sock, f, reply
        self.buf = bytearray()

    def frames(self) -> Iterator[tuple[int, bytes]]:
        """(stream, data) pairs; the last is (EXIT, json) unless the connection broke."""
        while True:
            for fr in P.parse_frames(self.buf):
                yield fr
                if fr[0] == P.EXIT:
                    return
            try:
                data = self.sock.recv(65536)
            except OSError:
                return
            if not data:
                return
            self.buf += data

    def send_stdin(self, data: bytes) -> None:
        self.sock.sendall(P.frame(P.STDIN, data))

    def close_stdin(self) -> None:
        try:
            self.sock.sendall(P.frame(P.STDIN, b""))
        except OSError:
            pass

    def close(self) -> None:
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.sock.close()


def _wait_gone(pid, timeout: float) -> bool:
    """Wait until process ``pid`` has exited (not our child: poll /proc); True if it has."""
    import time
    deadline = time.monotonic() + timeout
    while pid:
        try:
            with open(f"/proc/{pid}/stat") as f:
                if f.read().rpartition(")")[2].split()[0] == "Z":
                    return True
        except OSError:
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.01)
    return True


def _read_reply(f) -> dict:
    line = f.readline()
    if not line:
        raise errors.Unavailable("supervisor closed the connection")
    msg = P.decode(line)
    if not msg.pop("ok", False):
        cls = getattr(errors, msg.get("kind") or "", None)
        if not (isinstance(cls, type) and issubclass(cls, errors.DockyardError)):
            cls = errors.DockyardError
        raise cls(msg.get("error", "supervisor error"))
    return msg
