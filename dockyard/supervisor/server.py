"""The supervisor: one small long-lived process that holds every running container.

It is a child subreaper, so container inits (ours, or re-parented from an external runtime)
are reaped here. One selector loop holds each container's stdout/stderr pipes (or pty
master), writes the json-file log, fans live output out to attached connections, reaps
exits, writes ``exit.json`` per container, applies restart policies and pushes exit events
to subscribers. dockyardd talks to it over ``<exec_root>/supervisor.sock`` (protocol and
diagram: :mod:`dockyard.supervisor.protocol`). A ``kill -9`` of dockyardd does not touch it.

Run: ``python -m dockyard.supervisor.server --exec-root /run/dockyard --runtime dockyard``
(forks into the background once the socket listens; the parent exits 0).
"""
from __future__ import annotations

import argparse
import ctypes
import logging
import os
import selectors
import signal
import socket
import sys
import tempfile
import time

from dockyard.supervisor import protocol as P
from dockyard.supervisor.drivers import make_driver
from dockyard.supervisor.ops import OpsMixin
from dockyard.supervisor.procs import Proc, recv_fd

log = logging.getLogger("dockyard.supervisor")
PR_SET_CHILD_SUBREAPER = 36
DRAIN_GRACE = 1.0  # after the process is reaped, wait this long at most for its output EOF
MAX_STDIN_BUFFER = 4 << 20  # queued stdin for a process that does not read it
MAX_CLIENT_BUFFER = 16 << 20  # queued output for an attached client that does not read


class Conn:
    """A client connection: request/reply, then possibly an attach or event stream."""

    def __init__(self, sock: socket.socket):
        self.sock = sock
        self.rbuf = bytearray()
        self.wbuf = bytearray()
        self.mode = "rpc"        # rpc | attach | subscribe
        self.proc: Proc | None = None
        self.streams = {"stdout", "stderr"}
        self.closed = False


class Supervisor(OpsMixin):
    def __init__(self, exec_root: str, runtime: str):
        self.exec_root = exec_root
        self.runtime = runtime
        self.state_dir = os.path.join(exec_root, "supervisor")
        os.makedirs(self.state_dir, exist_ok=True)
        self.driver = make_driver(runtime, os.path.join(exec_root, "runtime", runtime))
        self.procs: dict[str, Proc] = {}
        self.by_pid: dict[int, Proc] = {}
        self.fd_owner: dict[int, Proc] = {}
        self.subscribers: list[Conn] = []
        self.sel = selectors.DefaultSelector()
        self.running = True

    # -- set-up ------------------------------------------------------------------------
    def listen(self, path: str) -> socket.socket:
        if os.path.exists(path):
            os.unlink(path)
        srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        srv.bind(path)
        os.chmod(path, 0o600)
        srv.listen(128)
        return srv

    def serve(self, srv: socket.socket) -> None:
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
        wake_r, wake_w = socket.socketpair()
        wake_r.setblocking(False)
        wake_w.setblocking(False)
        signal.set_wakeup_fd(wake_w.fileno(), warn_on_full_buffer=False)
        signal.signal(signal.SIGCHLD, lambda *_: None)
        signal.signal(signal.SIGTERM, lambda *_: setattr(self, "running", False))
        signal.signal(signal.SIGPIPE, signal.SIG_IGN)
        srv.setblocking(False)
        self.sel.register(srv, selectors.EVENT_READ, ("accept", srv))
        self.sel.register(wake_r, selectors.EVENT_READ, ("signal", wake_r))
        self.reap()
        while self.running:
            for key, mask in self.sel.select(self.timeout()):
                self.dispatch(key, mask)
            self.timers()

    def dispatch(self, key, mask) -> None:
        kind, obj = key.data
        try:
            if kind == "accept":
                sock, _ = obj.accept()
                sock.setblocking(False)
                self.sel.register(sock, selectors.EVENT_READ, ("conn", Conn(sock)))
            elif kind == "signal":
                obj.recv(4096)
                self.reap()
            elif kind in ("out", "stdin"):
                if mask & selectors.EVENT_WRITE:
                    self.flush_stdin(obj)
                if mask & selectors.EVENT_READ:
                    self.on_output(key.fd, obj)
            elif kind == "conn":
                if mask & selectors.EVENT_WRITE:
                    self.flush(obj)
                if mask & selectors.EVENT_READ and not obj.closed:
                    self.on_conn(obj)
        except Exception:  # one bad client or container must not stop the loop
            log.exception("supervisor: error handling %s", kind)

    # -- timers: output drain grace and restart back-off --------------------------------
    def timeout(self) -> float | None:
        now, due = time.monotonic(), []
        for p in self.procs.values():
            if p.reaped_at is not None and p.status == "running":
                due.append(p.reaped_at + DRAIN_GRACE)
            if p.restart_pending:
                due.append(p.restart_pending)
        return max(0.0, min(due) - now) if due else None

    def timers(self) -> None:
        now = time.monotonic()
        for p in list(self.procs.values()):
            if p.status == "running" and p.reaped_at is not None and now >= p.reaped_at + DRAIN_GRACE:
                # a busy machine may get here before the loop read what is already in the
                # pipes: take it now, so nothing the process wrote before exiting is lost
                for fd in list(p.out_fds):
                    self._drain(fd, p)
                if p.status != "running":  # draining reached EOF and finished it
                    continue
                self.close_fds(p)
                self.finish(p)
            if p.restart_pending and now >= p.restart_pending:
                self.restart(p)

    # -- processes ---------------------------------------------------------------------
    def reap(self) -> None:
        while True:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            p = self.by_pid.pop(pid, None)
            if p is not None and p.status == "running":
                p.mark_reaped(status)
                if not p.out_fds:
                    self.finish(p)

    def _drain(self, fd: int, p: Proc) -> None:
        """Read everything already buffered in ``fd`` before it is closed."""
        while fd in p.out_fds and self._readable(fd):
            self.on_output(fd, p)

    @staticmethod
    def _readable(fd: int) -> bool:
        import select
        try:
            return bool(select.select([fd], [], [], 0)[0])
        except (OSError, ValueError):
            return False

    def on_output(self, fd: int, p: Proc) -> None:
        try:
            data = os.read(fd, 65536)
        except BlockingIOError:
            return
        except OSError:  # EIO: the pty's other side is gone
            data = b""
        if not data:
            self._unregister(fd)
            p.close_out(fd)
            if not p.out_fds and p.reaped_at is not None and p.status == "running":
                self.finish(p)
            return
        stream = p.output(fd, data)
        sid = P.STDOUT if stream == "stdout" else P.STDERR
        for c in list(p.attachers):
            if stream in c.streams:
                self.send(c, P.frame(sid, data))

    def finish(self, p: Proc) -> None:
        rec = p.finish()
        restarting = p.should_restart()
        for c in p.attachers:
            self.send(c, P.frame(P.EXIT, P.encode(rec)))
            self.end(c)
        p.attachers.clear()
        for c in p.waiters:
            self.reply(c, ok=True, **rec)
        p.waiters.clear()
        self.publish({"event": "exit", "id": p.id, "kind": p.kind, "container": p.container,
                      "restarting": restarting, **rec})
        if p.kind == "exec":  # nobody can attach to a finished exec: do not keep it around
            self.procs.pop(p.id, None)
        if restarting:  # docker's back-off: 100 ms doubling, reset after 10 s of running
            p.restart_count += 1
            ran = time.monotonic() - p.started_mono
            p.backoff = 0.1 if ran >= 10 else min(p.backoff * 2, 60.0) if p.backoff else 0.1
            p.restart_pending = time.monotonic() + p.backoff

    def restart(self, p: Proc) -> None:
        p.restart_pending = None
        try:
            self.driver.delete(p.id, force=True)
        except Exception:
            pass
        try:
            self.spawn(p)
            self.driver.start(p.id)
            p.mark_started()
        except Exception as e:
            log.error("restart of %s failed: %s", p.id, e)
            self.publish({"event": "restart-failed", "id": p.id, "error": str(e)})
            return
        self.publish({"event": "start", "id": p.id, "kind": p.kind, "pid": p.pid,
                      "started_at": p.started_at, "restart_count": p.restart_count})

    def spawn(self, p: Proc) -> None:
        """Create the process through the runtime with fresh stdio."""
        if p.tty:
            with tempfile.TemporaryDirectory(dir=self.state_dir) as tmp:
                path = os.path.join(tmp, "console.sock")
                lsock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                with lsock:
                    lsock.bind(path)
                    lsock.listen(1)
                    p.pid = self._runtime_spawn(p, console_socket=path)
                    p.set_master(recv_fd(lsock))
        else:
            ends = p.make_pipes()
            try:
                p.pid = self._runtime_spawn(p, stdio=ends)
            except Exception:
                self.close_fds(p)
                raise
            finally:
                for fd in ends:
                    os.close(fd)
        self.by_pid[p.pid] = p
        for fd in p.out_fds:
            self.fd_owner[fd] = p
            self.sel.register(fd, selectors.EVENT_READ, ("out", p))

    def _runtime_spawn(self, p: Proc, **stdio) -> int:
        if p.kind == "exec":
            return self.driver.exec(p.container, p.msg["process"], **stdio)
        return self.driver.create(p.id, p.msg["bundle"], **stdio)

    def close_fds(self, p: Proc) -> None:
        """Close the process's host-side fds, unregistering them first."""
        fd = p.stdin_fd
        if fd is not None and fd not in p.out_fds:
            self._want_write(p, fd, False)
        p.stdin_buf.clear()
        for fd in p.close_all():
            self._unregister(fd)

    def _unregister(self, fd: int) -> None:
        if self.fd_owner.pop(fd, None) is not None:
            self.sel.unregister(fd)

    # -- connections -------------------------------------------------------------------
    def on_conn(self, c: Conn) -> None:
        try:
            data = c.sock.recv(65536)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            data = b""
        if not data:
            return self.drop(c)
        c.rbuf += data
        if c.mode == "attach":
            return self.on_stdin(c)
        while c.mode == "rpc" and b"\n" in c.rbuf:
            line, _, rest = bytes(c.rbuf).partition(b"\n")
            c.rbuf = bytearray(rest)
            self.handle(c, P.decode(line))
        if c.mode == "attach" and c.rbuf:
            self.on_stdin(c)

    def on_stdin(self, c: Conn) -> None:
        """Queue the client's stdin frames for the process; written as it reads them."""
        p = c.proc
        for stream, data in P.parse_frames(c.rbuf):
            if stream != P.STDIN or p is None or p.stdin_fd is None:
                continue
            if data:
                p.stdin_buf += data
            elif (p.stdin_once or p.kind == "exec") and not p.tty:
                # docker's rule: a client's EOF closes the stdin of a process without a
                # terminal (StdinOnce, exec); with a terminal it only ends that client's
                # input, so detaching (ctrl-p ctrl-q) leaves the shell running
                p.stdin_eof = True
        if p is not None and len(p.stdin_buf) > MAX_STDIN_BUFFER:
            log.warning("%s does not read its stdin: dropping the attached client", p.id)
            p.stdin_buf.clear()
            return self.drop(c)
        if p is not None:
            self.flush_stdin(p)

    def flush_stdin(self, p: Proc) -> None:
        """Write queued stdin without blocking the loop; wait for POLLOUT when the pipe
        (or pty) is full. At the client's EOF: close the pipe, or send ^D to a pty."""
        fd = p.stdin_fd
        if fd is None:
            p.stdin_buf.clear()
            return
        try:
            while p.stdin_buf:
                del p.stdin_buf[:os.write(fd, p.stdin_buf)]
        except BlockingIOError:
            return self._want_write(p, fd, True)
        except OSError:
            p.stdin_buf.clear()  # the process closed its stdin
        self._want_write(p, fd, False)
        if p.stdin_eof and not p.stdin_buf:
            p.stdin_eof = False
            p.close_stdin()

    def _want_write(self, p: Proc, fd: int, on: bool) -> None:
        read = selectors.EVENT_READ if fd in p.out_fds else 0
        events = read | (selectors.EVENT_WRITE if on else 0)
        try:
            key = self.sel.get_key(fd)
        except KeyError:
            key = None
        if key is None and events:
            self.sel.register(fd, events, ("out" if read else "stdin", p))
        elif key is not None and events:
            self.sel.modify(fd, events, key.data)
        elif key is not None:
            self.sel.unregister(fd)

    def handle(self, c: Conn, msg: dict) -> None:
        op = msg.get("op")
        fn = getattr(self, f"op_{op}", None) if op in P.OPS else None
        if fn is None:
            return self.reply(c, ok=False, error=f"unknown op {op!r}", kind="InvalidArgument")
        try:
            out = fn(c, msg)
        except Exception as e:
            log.debug("op %s failed", op, exc_info=True)
            kind = type(e).__name__ if type(e).__module__ == "dockyard.errors" else "DockyardError"
            return self.reply(c, ok=False, error=str(e), kind=kind)
        if out is not None:
            self.reply(c, ok=True, **out)

    def reply(self, c: Conn, **msg) -> None:
        self.send(c, P.encode(msg))

    def send(self, c: Conn, data: bytes) -> None:
        if c.closed:
            return
        c.wbuf += data
        if len(c.wbuf) > MAX_CLIENT_BUFFER:  # a client that stopped reading: the log keeps
            log.warning("dropping a client that does not read")  # everything anyway
            return self.drop(c)
        self.flush(c)

    def flush(self, c: Conn) -> None:
        try:
            n = c.sock.send(c.wbuf) if c.wbuf else 0
            del c.wbuf[:n]
        except BlockingIOError:
            pass
        except OSError:
            return self.drop(c)
        want = selectors.EVENT_READ | (selectors.EVENT_WRITE if c.wbuf else 0)
        self.sel.modify(c.sock, want, ("conn", c))
        if not c.wbuf and c.mode == "closing":
            self.drop(c)

    def end(self, c: Conn) -> None:
        """Close once the buffered output is out."""
        c.mode = "closing"
        if not c.wbuf:
            self.drop(c)

    def drop(self, c: Conn) -> None:
        if c.closed:
            return
        c.closed = True
        self.sel.unregister(c.sock)
        c.sock.close()
        for p in self.procs.values():
            if c in p.attachers:
                p.attachers.remove(c)
            if c in p.waiters:
                p.waiters.remove(c)
        if c in self.subscribers:
            self.subscribers.remove(c)

    def publish(self, event: dict) -> None:
        line = P.encode(event)
        for c in list(self.subscribers):
            self.send(c, line)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="dockyard-supervisor")
    ap.add_argument("--exec-root", default="/run/dockyard")
    ap.add_argument("--runtime", default="dockyard")
    ap.add_argument("--log-file", default=None)
    ap.add_argument("--foreground", action="store_true")
    args = ap.parse_args(argv)
    from dockyard.supervisor.codeid import code_id
    code_id()  # fingerprint the code as loaded now, before anything can change on disk
    sup = Supervisor(args.exec_root, args.runtime)
    srv = sup.listen(os.path.join(args.exec_root, "supervisor.sock"))
    if not args.foreground and os.fork() > 0:
        os._exit(0)  # the socket listens: the caller may connect now
    if not args.foreground:
        os.setsid()
        _redirect(args.log_file or os.path.join(args.exec_root, "supervisor.log"))
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    sup.serve(srv)
    return 0


def _redirect(path: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o640)
    null = os.open("/dev/null", os.O_RDONLY)
    os.dup2(null, 0)
    os.dup2(fd, 1)
    os.dup2(fd, 2)
    os.close(fd)
    os.close(null)
    os.chdir("/")


if __name__ == "__main__":
    sys.exit(main())
