"""HTTP/1.1 over a unix socket for the CLI, with nothing but ``_socket``.

The CLI pays its imports on every command: ``http.client`` pulls in ``email`` and
``ssl`` and costs more than the request itself, so the client speaks the small part
of HTTP/1.1 it needs here (one request at a time, Content-Length or chunked bodies
both ways, keep-alive). The server side uses a real HTTP library (h11).
It uses the C module ``_socket`` directly: ``socket.py`` imports ``enum`` and
``selectors`` (~7 ms of every command) for features a unix-socket client never uses.
"""
from __future__ import annotations

import _socket

CHUNK = 1 << 18


class ProtocolError(ConnectionError):
    """The daemon's answer is not the HTTP/1.1 we expect."""


class Response:
    """A response whose body is read on demand: ``read(n)``, ``read1(n)``, ``getheader``."""

    def __init__(self, conn: "Connection", head_only: bool):
        self._c = conn
        line = conn.readline()
        parts = line.split(b" ", 2)
        if len(parts) < 2 or not parts[0].startswith(b"HTTP/1."):
            raise ProtocolError(f"bad status line from daemon: {line[:80]!r}")
        self.status = int(parts[1])
        self.reason = parts[2].strip().decode("latin-1") if len(parts) > 2 else ""
        self.headers: dict[str, str] = {}
        while (h := conn.readline().rstrip(b"\r\n")):
            k, _, v = h.partition(b":")
            self.headers[k.decode("latin-1").strip().lower()] = v.decode("latin-1").strip()
        self._chunked = "chunked" in self.headers.get("transfer-encoding", "").lower()
        length = self.headers.get("content-length")
        no_body = head_only or self.status in (204, 304) or 100 <= self.status < 200
        self._left = 0 if no_body else (int(length) if length is not None else None)
        self._chunk_left = 0
        self.done = no_body or self._left == 0 and not self._chunked
        self.will_close = self.headers.get("connection", "").lower() == "close" or \
            (not self._chunked and length is None and not no_body)

    def getheader(self, name: str, default: str | None = None) -> str | None:
        return self.headers.get(name.lower(), default)

    def _next_piece(self, n: int) -> bytes:
        if self.done:
            return b""
        if self._chunked:
            if self._chunk_left == 0:
                size = int(self._c.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self._c.readline().rstrip(b"\r\n"):
                        pass  # trailers
                    self.done = True
                    return b""
                self._chunk_left = size
            data = self._c.recv_some(min(n, self._chunk_left))
            if not data:
                raise ProtocolError("the daemon closed the connection mid-response")
            self._chunk_left -= len(data)
            if self._chunk_left == 0:
                self._c.readline()  # CRLF after the chunk
            return data
        want = n if self._left is None else min(n, self._left)
        data = self._c.recv_some(want)
        if self._left is not None:
            self._left -= len(data)
            if self._left == 0:
                self.done = True
        elif not data:
            self.done = True
        if not data and not self.done:
            raise ProtocolError("the daemon closed the connection mid-response")
        return data

    def read1(self, n: int = 65536) -> bytes:
        """Up to ``n`` bytes as soon as some are there; b"" at the end."""
        while not self.done:
            data = self._next_piece(n)
            if data:
                return data
        return b""

    def read(self, n: int = -1) -> bytes:
        out = bytearray()
        while (n < 0 or len(out) < n) and not self.done:
            out += self._next_piece(CHUNK if n < 0 else n - len(out))
        return bytes(out)

    def close(self) -> None:
        self._c.close()


class Connection:
    """One connection to the daemon's socket, kept alive between requests."""

    def __init__(self, path: str, timeout: float | None = None):
        self.path = path
        self.timeout = timeout
        self.sock: _socket.socket | None = None
        self._buf = b""

    def connect(self) -> None:
        s = _socket.socket(_socket.AF_UNIX, _socket.SOCK_STREAM)
        if self.timeout is not None:
            s.settimeout(self.timeout)
        s.connect(self.path)
        self.sock, self._buf = s, b""

    def readline(self) -> bytes:
        while b"\n" not in self._buf:
            data = self.sock.recv(65536)
            if not data:
                raise ProtocolError("the daemon closed the connection")
            self._buf += data
        line, _, self._buf = self._buf.partition(b"\n")
        return line + b"\n"

    def recv_some(self, n: int) -> bytes:
        if not self._buf:
            self._buf = self.sock.recv(max(n, 65536))
        data, self._buf = self._buf[:n], self._buf[n:]
        return data

    def request(self, method: str, url: str, headers: dict[str, str], body=None) -> Response:
        """Send one request; ``body`` is bytes, a file object or an iterable of bytes."""
        if self.sock is None:
            self.connect()
        hdrs = dict(headers)
        streaming = body is not None and not isinstance(body, (bytes, bytearray))
        if body is None:
            if method in ("POST", "PUT"):
                hdrs.setdefault("Content-Length", "0")
        elif not streaming:
            hdrs["Content-Length"] = str(len(body))
        elif "Content-Length" not in hdrs:
            hdrs["Transfer-Encoding"] = "chunked"
        head = f"{method} {url} HTTP/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in hdrs.items())
        self.sock.sendall(head.encode("latin-1") + b"\r\n" + (body if body and not streaming else b""))
        if streaming:
            self._send_stream(body, "Transfer-Encoding" in hdrs)
        return Response(self, head_only=(method == "HEAD"))

    def _send_stream(self, body, chunked: bool) -> None:
        pieces = iter(lambda: body.read(CHUNK), b"") if hasattr(body, "read") else body
        for piece in pieces:
            if piece:
                self.sock.sendall(b"%x\r\n%s\r\n" % (len(piece), piece) if chunked else piece)
        if chunked:
            self.sock.sendall(b"0\r\n\r\n")

    def close(self) -> None:
        if self.sock is not None:
            self.sock.close()
            self.sock = None
