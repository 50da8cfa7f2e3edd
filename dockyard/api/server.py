"""The Engine API server: HTTP/1.1 over a unix socket (or TCP+TLS), one thread per connection.

h11 parses and frames HTTP (keep-alive, chunked bodies and responses); this module
only moves bytes between it and the socket, and hands the raw socket to a handler
that hijacks the connection (attach, exec start), which h11 makes explicit through
its protocol-switch state. Threads keep handlers plain blocking code: a streaming
handler (logs -f, events, pull progress) simply yields chunks.
"""
from __future__ import annotations

import json
import logging
import os
import socket
import threading
import time
from http import HTTPStatus
from typing import Iterator

import h11

from dockyard.api import http
from dockyard.api.errors import status_and_message
from dockyard.api.router import Router, split_version
from dockyard.errors import DockyardError

log = logging.getLogger("dockyard.api")
SERVER_HEADER = b"dockyard"
MAX_HEADER = 64 * 1024


class _Body:
    """File-like reader over the request body, pulling Data events from h11."""

    def __init__(self, conn: "Connection"):
        self._c = conn
        self._buf = bytearray()
        self.done = False

    def _fill(self) -> bool:
        ev = self._c.next_event()
        if isinstance(ev, h11.Data):
            self._buf += ev.data
            return True
        self.done = True  # EndOfMessage, or the client went away
        return False

    def read(self, n: int = -1) -> bytes:
        while not self.done and (n < 0 or len(self._buf) < n):
            if not self._fill():
                break
        if n < 0 or n >= len(self._buf):
            data, self._buf = bytes(self._buf), bytearray()
        else:
            data, self._buf = bytes(self._buf[:n]), self._buf[n:]
        return data

    def read1(self, n: int = 65536) -> bytes:
        if not self._buf and not self.done:
            self._fill()
        return self.read(min(n, len(self._buf)) if self._buf else 0)

    def drain(self) -> None:
        while not self.done:
            self._fill()
            self._buf.clear()


class Connection:
    """One client connection: a loop of request → handler → response."""

    def __init__(self, sock: socket.socket, server: "APIServer"):
        self.sock = sock
        self.server = server
        self.h = h11.Connection(h11.SERVER, max_incomplete_event_size=MAX_HEADER)

    def next_event(self):
        while True:
            ev = self.h.next_event()
            if ev is h11.NEED_DATA:
                data = self.sock.recv(262144)
                self.h.receive_data(data)
                if not data and self.h.their_state is h11.SEND_BODY:
                    return h11.ConnectionClosed()
                continue
            return ev

    def send(self, ev) -> None:
        data = self.h.send(ev)
        if data:
            self.sock.sendall(data)

    def serve(self) -> None:
        try:
            while True:
                ev = self.next_event()
                if isinstance(ev, (h11.ConnectionClosed,)) or ev is h11.PAUSED:
                    return
                if not isinstance(ev, h11.Request):
                    return
                if not self.handle(ev):
                    return
                if self.h.our_state is h11.MUST_CLOSE or self.h.their_state is h11.MUST_CLOSE:
                    return
                self.h.start_next_cycle()
        except (ConnectionError, h11.ProtocolError, OSError) as e:
            log.debug("connection ended: %s", e)
        finally:
            try:
                self.sock.close()
            except OSError:
                pass

    def handle(self, ev: h11.Request) -> bool:
        """Serve one request; False when the connection is finished (hijacked/closed)."""
        method = ev.method.decode()
        target = ev.target.decode("latin-1")
        path, _, query = target.partition("?")
        headers = {k.decode().lower(): v.decode("latin-1") for k, v in ev.headers}
        body = _Body(self)
        t0 = time.monotonic()
        try:
            version, path = split_version(path)
            handler, match = self.server.router.resolve(method, path)
            req = http.Request(method, path, query, headers, body, version)
            req.match = match
            resp = handler(req, self.server.engine)
        except Exception as e:  # every error becomes docker's {"message"} here
            status, msg = status_and_message(e)
            resp = http.JSON({"message": msg}, status=status)
        finally:
            log.debug("%s %s %.1fms", method, target, (time.monotonic() - t0) * 1000)
        if isinstance(resp, http.Hijack):
            return self._hijack(resp, body, headers)
        body.drain()
        self._respond(resp, method == "HEAD")
        return True

    def _start(self, status: int, headers: list[tuple[str, str]]) -> None:
        hs = [("Server", "dockyard"), ("Api-Version", self.server.api_version),
              ("Docker-Experimental", "false"), ("Ostype", "linux")] + headers
        try:
            reason = HTTPStatus(status).phrase.encode()
        except ValueError:
            reason = b""
        self.send(h11.Response(status_code=status, headers=hs, reason=reason))

    def _respond(self, resp, head: bool) -> None:
        if resp is None:
            resp = http.Empty()
        if isinstance(resp, http.JSON):
            data = json.dumps(resp.obj).encode() if resp.status != 304 else b""
            self._fixed(resp.status, "application/json", data, resp.headers, head)
        elif isinstance(resp, http.Empty):
            self._fixed(resp.status, None, b"", resp.headers, head)
        elif isinstance(resp, http.Raw):
            self._fixed(resp.status, resp.content_type, resp.data, resp.headers, head)
        elif isinstance(resp, http.Stream):
            self._stream(resp, head)
        else:
            raise TypeError(f"handler returned {type(resp).__name__}")

    def _fixed(self, status, ctype, data: bytes, extra: dict, head: bool) -> None:
        headers = [(k, v) for k, v in extra.items()]
        if ctype:
            headers.append(("Content-Type", ctype))
        if status not in (204, 304):
            headers.append(("Content-Length", str(len(data))))
        self._start(status, headers)
        if data and not head:
            self.send(h11.Data(data=data))
        self.send(h11.EndOfMessage())

    def _stream(self, resp: http.Stream, head: bool) -> None:
        headers = [(k, v) for k, v in resp.headers.items()]
        headers.append(("Content-Type", resp.content_type))
        self._start(resp.status, headers)
        if not head:
            it: Iterator[bytes] = iter(resp.chunks)
            try:
                for chunk in it:
                    if chunk:
                        self.send(h11.Data(data=chunk))
            except (ConnectionError, OSError):
                raise
            except Exception as e:  # an error after headers went out: report in-stream
                status, msg = status_and_message(e)
                if resp.content_type == "application/json":
                    self.send(h11.Data(data=(json.dumps(http.error_message(msg)) + "\r\n").encode()))
            finally:
                close = getattr(it, "close", None)
                if close:
                    close()
        self.send(h11.EndOfMessage())

    def _hijack(self, resp: http.Hijack, body: _Body, headers: dict) -> bool:
        body.drain()
        pending = bytes(self.h.trailing_data[0])
        upgrade = "upgrade" in headers.get("connection", "").lower()
        if upgrade:
            head = (f"HTTP/1.1 101 UPGRADED\r\nContent-Type: {resp.content_type}\r\n"
                    "Connection: Upgrade\r\nUpgrade: tcp\r\n"
                    f"Api-Version: {self.server.api_version}\r\n\r\n")
        else:
            head = (f"HTTP/1.1 200 OK\r\nContent-Type: {resp.content_type}\r\n"
                    f"Api-Version: {self.server.api_version}\r\n\r\n")
        self.sock.sendall(head.encode())
        try:
            resp.fn(http.HijackedConn(self.sock, pending))
        except (ConnectionError, OSError) as e:
            log.debug("hijacked stream ended: %s", e)
        except DockyardError as e:
            try:
                self.sock.sendall(f"Error: {e}\n".encode())
            except OSError:
                pass
        return False


class APIServer:
    """Accept loop on a unix (or TCP) socket; a thread per connection."""

    def __init__(self, engine, sock: socket.socket, api_version: str):
        self.engine = engine
        self.sock = sock
        self.api_version = api_version
        self.router = Router()
        self._stop = threading.Event()

    def serve_forever(self) -> None:
        while not self._stop.is_set():
            try:
                client, _ = self.sock.accept()
            except OSError:
                if self._stop.is_set():
                    return
                raise
            t = threading.Thread(target=Connection(client, self).serve, daemon=True)
            t.start()

    def shutdown(self) -> None:
        self._stop.set()
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.sock.close()


def listen_unix(path: str, mode: int = 0o660, group: str | None = "dockyard") -> socket.socket:
    """Bind ``path`` (replacing a stale socket) with ``mode`` and the ``dockyard`` group."""
    os.makedirs(os.path.dirname(path), mode=0o711, exist_ok=True)
    probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        probe.connect(path)
    except (FileNotFoundError, ConnectionRefusedError):
        pass
    else:
        probe.close()
        raise DockyardError(f"another daemon is already listening on {path}")
    finally:
        probe.close()
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    old = os.umask(0o177)
    try:
        s.bind(path)
    finally:
        os.umask(old)
    os.chmod(path, mode)
    if group:
        try:
            import grp
            os.chown(path, 0, grp.getgrnam(group).gr_gid)
        except KeyError:
            pass  # no such group: root-only socket
    s.listen(128)
    return s
