"""The parent/child start-up protocol: a few named messages over a socketpair.

A SOCK_SEQPACKET socketpair keeps message boundaries; each message is one JSON
object with a ``type``. The child end is close-on-exec, so a successful exec
shows up in the parent as end-of-file.

::

    runtime (parent P)          intermediate (I)              init (C)
    fork ──────────────────────► joins its cgroup (v1: "0" → tasks)
                                 setns(paths)
                                 unshare(user)      or   unshare(mnt,net,…)
                      ◄───────── USERMAP
    (v2: cgroup.procs ← I) JOINED ►
    write uid/gid maps ─ MAPPED ► unshare(mnt,net,…)
                                 unshare(cgroup); clone(PARENT) ─► (pid 1)
                      ◄───────── PID {pid}
                                 _exit(0)  (reaped after READY)
                                                               mounts, devices
                      ◄──────────────────────────────────────── HOOKS
    prestart/createRuntime hooks ─ HOOKS_DONE ────────────────►
                                                               pivot_root, caps...
                      ◄──────────────────────────────────────── READY
    save state, return                                         open(exec.fifo) blocks
                                                               (start) exec

Without a user namespace and in a single-threaded caller (the CLI) there is no
intermediate: the parent switches its pid_for_children (unshare/setns), forks
the init straight into the pid namespace, switches back, and the init does I's
namespace steps itself (JOINED, then HOOKS/READY as above; no PID message).

Any step may instead send ERROR {message, errno}; the parent raises it with
the syscall and path that failed and cleans up.
"""
from __future__ import annotations

import _socket
import os

from dockyard.runtime import jsonio

JOINED = "joined"
USERMAP = "usermap"
MAPPED = "mapped"
PID = "pid"
HOOKS = "hooks"
HOOKS_DONE = "hooks_done"
READY = "ready"
ERROR = "error"


class ChildError(Exception):
    """A failure reported by the child: ``str()`` names the syscall and path."""

    def __init__(self, message: str, errno: int = 0):
        super().__init__(message)
        self.errno = errno


class Channel:
    """One end of the socketpair, with a ``wait_for`` per expected message."""

    def __init__(self, sock: _socket.socket):
        self.sock = sock

    @staticmethod
    def pair() -> tuple["Channel", "Channel"]:
        """(parent end, child end); the child end is closed on exec."""
        # _socket, not socket: socket.py imports enum (milliseconds per CLI call)
        a, b = _socket.socketpair(_socket.AF_UNIX, _socket.SOCK_SEQPACKET)
        return Channel(a), Channel(b)

    def send(self, kind: str, **fields) -> None:
        fields["type"] = kind
        self.sock.send(jsonio.dumps(fields).encode())

    def send_error(self, exc: BaseException) -> None:
        errno = getattr(exc, "errno", 0) or 0
        self.send(ERROR, message=error_message(exc), errno=errno)

    def recv(self) -> dict | None:
        """The next message, or None at end-of-file (the peer exec'd or exited)."""
        data = self.sock.recv(65536)
        return jsonio.loads(data) if data else None

    def wait_any(self) -> dict:
        """The next message, whatever its type; child errors and EOF raise."""
        msg = self.recv()
        if msg is None:
            raise ChildError("container init exited unexpectedly")
        if msg["type"] == ERROR:
            raise ChildError(msg["message"], msg.get("errno", 0))
        return msg

    def wait_for(self, kind: str) -> dict:
        """Receive the next message and check it is ``kind``; re-raise child errors."""
        msg = self.recv()
        if msg is None:
            raise ChildError(f"container init exited before sending {kind!r}")
        if msg["type"] == ERROR:
            raise ChildError(msg["message"], msg.get("errno", 0))
        if msg["type"] != kind:
            raise ChildError(f"protocol error: expected {kind!r}, got {msg['type']!r}")
        return msg

    def fileno(self) -> int:
        return self.sock.fileno()

    def close(self) -> None:
        self.sock.close()


def error_message(exc: BaseException) -> str:
    """``"mount /proc: Operation not permitted"`` from our seam's OSErrors."""
    if isinstance(exc, OSError) and exc.errno:
        op, sep, detail = (exc.strerror or "").partition(": ")
        if not sep:  # a plain OSError from os.*: no syscall name to show
            return f"{exc.filename}: {exc.strerror}" if exc.filename else str(exc.strerror)
        op, detail = op or "syscall", detail or os.strerror(exc.errno)
        return f"{op} {exc.filename}: {detail}" if exc.filename else f"{op}: {detail}"
    return str(exc) or type(exc).__name__
