"""The processes the supervisor holds: a container's init or an exec'd process.

A :class:`Proc` owns the host side of the process's stdio (pipes, or a pty master), its
json-file log writer, and the lists of attached connections and waiters. It is *finished*
once the process was reaped and its output reached EOF, so attachers see all of the output
before the exit frame.
"""
from __future__ import annotations

import fcntl
import json
import os
import socket
import struct
import termios
import time

from dockyard.supervisor.logs import LogWriter, rfc3339nano


class Proc:
    def __init__(self, id: str, msg: dict, kind: str = "container"):
        self.id = id
        self.kind = kind
        self.container = msg.get("container", id)
        self.msg = msg                      # the create/exec request, kept for restarts
        self.tty = bool(msg.get("tty"))
        self.open_stdin = bool(msg.get("stdin"))
        self.stdin_once = bool(msg.get("stdin_once"))
        self.pid = 0
        self.status = "created"             # created | running | exited
        self.exit_code: int | None = None
        self.started_at = self.finished_at = ""
        self.restart_count = 0
        self.manual_stop = False
        self.restart_pending: float | None = None
        self.backoff = 0.0                  # seconds before the next restart
        self.started_mono = 0.0
        self.out_fds: dict[int, str] = {}   # fd → "stdout" | "stderr"
        self.stdin_fd: int | None = None
        self.stdin_buf = bytearray()        # client input not yet written to the process
        self.stdin_eof = False              # close stdin once the buffer is written
        self.master: int | None = None
        self.attachers: list = []
        self.waiters: list = []
        self.reaped_at: float | None = None
        log = msg.get("log")
        self.log = LogWriter(log["path"], log.get("max_size", 0), log.get("max_file", 1)) \
            if log else None

    # -- stdio -------------------------------------------------------------------------
    def make_pipes(self) -> tuple[int, int, int]:
        """Create stdio pipes; return the container's ends (closed here after create)."""
        out_r, out_w = os.pipe()
        err_r, err_w = os.pipe()
        if self.open_stdin:
            in_r, self.stdin_fd = os.pipe()
            os.set_blocking(self.stdin_fd, False)
        else:
            in_r = os.open("/dev/null", os.O_RDONLY | os.O_CLOEXEC)
        for fd in (out_r, err_r):
            os.set_blocking(fd, False)
        self.out_fds = {out_r: "stdout", err_r: "stderr"}
        return in_r, out_w, err_w

    def set_master(self, fd: int) -> None:
        os.set_blocking(fd, False)
        self.master = fd
        self.out_fds = {fd: "stdout"}
        if self.open_stdin:
            self.stdin_fd = fd

    def output(self, fd: int, data: bytes) -> str:
        stream = self.out_fds[fd]
        if self.log:
            self.log.write(stream, data)
        return stream

    def close_out(self, fd: int) -> None:
        self.out_fds.pop(fd, None)
        if fd != self.master and fd != self.stdin_fd:
            os.close(fd)

    def close_stdin(self) -> None:
        if self.stdin_fd is not None and self.stdin_fd != self.master:
            os.close(self.stdin_fd)
        self.stdin_fd = None if self.stdin_fd != self.master else self.stdin_fd

    def close_all(self) -> list[int]:
        """Close every host-side fd; return the ones that were registered for reading."""
        fds = list(self.out_fds)
        for fd in fds:
            self.close_out(fd)
        self.close_stdin()
        if self.master is not None:
            os.close(self.master)
            self.master = self.stdin_fd = None
        return fds

    def resize(self, h: int, w: int) -> None:
        if self.master is not None:
            fcntl.ioctl(self.master, termios.TIOCSWINSZ, struct.pack("HHHH", h, w, 0, 0))

    # -- lifecycle ---------------------------------------------------------------------
    def mark_started(self, pid: int | None = None) -> None:
        self.status = "running"
        self.started_at = rfc3339nano()
        self.started_mono = time.monotonic()
        self.exit_code = None
        self.finished_at = ""
        self.reaped_at = None

    def mark_reaped(self, status: int) -> None:
        self.exit_code = os.waitstatus_to_exitcode(status)
        if self.exit_code < 0:          # killed by a signal: docker reports 128+sig
            self.exit_code = 128 - self.exit_code
        self.reaped_at = time.monotonic()
        self.finished_at = rfc3339nano()

    def finish(self) -> dict:
        """The process is done: flush the log, write the exit file; return the exit record."""
        self.status = "exited"
        if self.log:
            self.log.flush()
        rec = {"exit_code": self.exit_code, "finished_at": self.finished_at,
               "started_at": self.started_at, "restart_count": self.restart_count}
        path = self.msg.get("exit_file")
        if path:
            tmp = path + ".tmp"
            with open(tmp, "w") as f:
                json.dump(rec, f)
            os.replace(tmp, path)
        return rec

    def should_restart(self) -> bool:
        """docker's restart policies; a manual stop (docker stop/kill) never restarts."""
        pol = self.msg.get("restart") or {}
        name = pol.get("Name") or "no"
        if self.kind != "container" or self.manual_stop or name == "no":
            return False
        if name == "on-failure":
            limit = int(pol.get("MaximumRetryCount") or 0)
            return self.exit_code != 0 and (limit == 0 or self.restart_count < limit)
        return name in ("always", "unless-stopped")

    def info(self) -> dict:
        return {"id": self.id, "kind": self.kind, "container": self.container, "pid": self.pid,
                "status": "restarting" if self.restart_pending else self.status,
                "exit_code": self.exit_code, "started_at": self.started_at,
                "finished_at": self.finished_at, "restart_count": self.restart_count}


def recv_fd(listener: socket.socket, timeout: float = 10.0) -> int:
    """Accept the runtime's console-socket connection and receive the pty master."""
    listener.settimeout(timeout)
    conn, _ = listener.accept()
    with conn:
        _, fds, _, _ = socket.recv_fds(conn, 4096, 1)
    if not fds:
        raise OSError("console socket: no pty master received")
    return fds[0]
