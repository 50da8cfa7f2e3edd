"""A thin Engine API client over the unix socket, stdlib only (lean CLI start-up).

``Client()`` talks to ``DOCKYARD_HOST`` (default unix:///run/dockyard/dockyard.sock).
When nothing answers on the default socket it starts dockyardd in the background and
waits for it, so a new user's first ``dockyard images`` just works.
"""
from __future__ import annotations

TYPE_CHECKING = False  # typing costs ~25 ms of import on every CLI call
if TYPE_CHECKING:
    from typing import Any, Iterator

import _socket
import sys

from dockyard import errors, getenv, jsonlite
from dockyard.client.transport import Connection, ProtocolError, Response

API_VERSION = "1.43"
DEFAULT_HOST = "unix:///run/dockyard/dockyard.sock"
_STATUS = {400: errors.InvalidArgument, 404: errors.NotFound, 409: errors.Conflict,
           304: errors.NotModified, 501: errors.NotImplementedYet, 503: errors.Unavailable}


class APIError(errors.DockyardError):
    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status


_SAFE = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-~")


def _quote(value) -> str:
    raw = str(value).encode()
    return "".join(chr(b) if b in _SAFE else f"%{b:02X}" for b in raw)


def urlencode(params: dict) -> str:
    """Query string for ``params`` (a list value repeats the key), as docker's clients send.

    Written out because ``urllib.parse`` costs more import time than the request.
    """
    pairs = []
    for k, v in params.items():
        for item in (v if isinstance(v, (list, tuple)) else [v]):
            pairs.append(f"{_quote(k)}={_quote(item)}")
    return "&".join(pairs)


def error_for(status: int, message: str) -> errors.DockyardError:
    cls = _STATUS.get(status)
    return cls(message) if cls else APIError(status, message)


class Client:
    def __init__(self, host: str | None = None, autostart: bool = True):
        self.host = host or getenv("DOCKYARD_HOST") or DEFAULT_HOST
        if not self.host.startswith("unix://"):
            raise errors.InvalidArgument(f"unsupported host {self.host!r}: use unix:///path")
        self.socket_path = self.host[len("unix://"):]
        self.autostart = autostart
        self._conn: Connection | None = None
        self._started = False
        self._answered = False  # the daemon has answered a request of this client

    # -- connection ------------------------------------------------------
    def _connection(self) -> Connection:
        if self._conn is None:
            self._conn = Connection(self.socket_path)
        return self._conn

    def _send(self, method: str, path: str, params: dict | None, body, headers: dict | None):
        url = f"/v{API_VERSION}{path}"
        if params:
            url += "?" + urlencode({k: v for k, v in params.items() if v is not None})
        hdrs = {"Host": "dockyard"}
        hdrs.update(headers or {})
        for attempt in (0, 1, 2):
            conn = self._connection()
            fresh = conn.sock is None
            try:
                return conn.request(method, url, hdrs, body)
            except (FileNotFoundError, ConnectionRefusedError) as e:
                self._conn = None
                if attempt or not self._may_autostart():
                    raise errors.Unavailable(
                        f"Cannot connect to the dockyard daemon at {self.host}: {e.strerror}. "
                        "Is dockyardd running?") from None
                self._start_daemon()
            except (ProtocolError, BrokenPipeError, ConnectionResetError):
                conn.close()  # a kept-alive connection the server closed: retry once
                self._conn = None
                if fresh or attempt or not isinstance(body, (bytes, type(None))):
                    raise
        raise errors.Unavailable(f"Cannot connect to the dockyard daemon at {self.host}")

    def _may_autostart(self) -> bool:
        return self.autostart and not self._started and getenv("DOCKYARD_NO_AUTOSTART") != "1"

    def _start_daemon(self) -> None:
        """Start dockyardd detached, logging to the data root, and wait for its socket."""
        import os
        self._started = True
        data_root = os.environ.get("DOCKYARD_DATA_ROOT", "/var/lib/dockyard")
        os.makedirs(data_root, mode=0o711, exist_ok=True)
        log = open(os.path.join(data_root, "daemon.log"), "ab")
        cmd = [*_daemon_command(), "--host", self.host]
        import subprocess
        import time
        subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                         start_new_session=True, close_fds=True)
        log.close()
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                s = _socket.socket(_socket.AF_UNIX, _socket.SOCK_STREAM)
                s.connect(self.socket_path)
                s.close()
                return
            except OSError:
                time.sleep(0.02)
        raise errors.Unavailable(f"dockyardd did not start; see {data_root}/daemon.log")

    # -- requests --------------------------------------------------------
    def request(self, method: str, path: str, params: dict | None = None, json_body: Any = None,
                body=None, headers: dict | None = None) -> Response:
        headers = dict(headers or {})
        if json_body is not None:
            body = jsonlite.dumps(json_body).encode()
            headers.setdefault("Content-Type", "application/json")
        resp = self._send(method, path, params, body, headers)
        self._answered = True
        if resp.status >= 400:
            raw = resp.read()
            self._release(resp)
            try:
                msg = jsonlite.loads(raw).get("message", "")
            except (ValueError, AttributeError):
                msg = raw.decode(errors="replace").strip()
            raise error_for(resp.status, msg or f"HTTP {resp.status}")
        return resp

    def _release(self, resp: Response) -> None:
        """After a whole response: keep the connection unless the server ends it."""
        if resp.will_close and self._conn is not None:
            self._conn.close()
            self._conn = None

    def _call(self, method, path, params=None, json=None, body=None, headers=None):
        resp = self.request(method, path, params, json, body, headers)
        data = resp.read()
        self._release(resp)
        if resp.status == 304:
            raise errors.NotModified("not modified")
        if not data:
            return None
        if resp.getheader("Content-Type", "").startswith("application/json"):
            return _json_loads(data)
        return data

    def get(self, path: str, params: dict | None = None):
        return self._call("GET", path, params)

    def post(self, path: str, params: dict | None = None, json: Any = None, body=None,
             headers: dict | None = None):
        return self._call("POST", path, params, json, body, headers)

    def put(self, path: str, params: dict | None = None, body=None, headers: dict | None = None):
        return self._call("PUT", path, params, None, body, headers)

    def delete(self, path: str, params: dict | None = None):
        return self._call("DELETE", path, params)

    def head(self, path: str, params: dict | None = None) -> Response:
        resp = self.request("HEAD", path, params)
        self._release(resp)
        return resp

    def raw(self, method: str, path: str, params: dict | None = None, json: Any = None,
            body=None, headers: dict | None = None) -> Response:
        """The response object, for byte streams (logs, export, save)."""
        resp = self.request(method, path, params, json, body, headers)
        self._conn = None  # the stream owns this connection now
        return resp

    def stream(self, method: str, path: str, params: dict | None = None, json: Any = None,
               body=None, headers: dict | None = None) -> Iterator[dict]:
        """Decode a JSON-lines response (progress, build output, events) as it arrives."""
        resp = self.raw(method, path, params, json, body, headers)
        buf = b""
        while True:
            chunk = resp.read1(65536)
            if not chunk:
                break
            buf += chunk
            while b"\n" in buf:
                line, buf = buf.split(b"\n", 1)
                if line.strip():
                    yield _json_loads(line)
        if buf.strip():
            yield _json_loads(buf)

    def hijack(self, method: str, path: str, params: dict | None = None, json_body: Any = None):
        """Send a request with ``Upgrade: tcp``; return the raw socket after the 101/200."""
        url = f"/v{API_VERSION}{path}"
        if params:
            url += "?" + urlencode({k: v for k, v in params.items() if v is not None})
        body = b"" if json_body is None else jsonlite.dumps(json_body).encode()
        if not self._answered:  # resolve autostart through a normal request first
            self.get("/_ping")
        s = _socket.socket(_socket.AF_UNIX, _socket.SOCK_STREAM)
        s.connect(self.socket_path)
        head = (f"{method} {url} HTTP/1.1\r\nHost: dockyard\r\nConnection: Upgrade\r\n"
                f"Upgrade: tcp\r\nContent-Type: application/json\r\n"
                f"Content-Length: {len(body)}\r\n\r\n").encode()
        s.sendall(head + body)
        status, extra = _read_head(s)
        if status not in (101, 200):
            raise error_for(status, _error_text(extra, s))
        return HijackedSocket(s, extra)

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None


def _json_loads(data: bytes):
    try:
        return jsonlite.loads(data)
    except ValueError:
        raise errors.DockyardError(f"daemon sent invalid JSON: {data[:200]!r}") from None


def _read_head(s: _socket.socket) -> tuple[int, bytes]:
    buf = b""
    while b"\r\n\r\n" not in buf:
        chunk = s.recv(4096)
        if not chunk:
            raise errors.Unavailable("daemon closed the connection")
        buf += chunk
    head, rest = buf.split(b"\r\n\r\n", 1)
    status = int(head.split(b" ", 2)[1])
    return status, rest


def _error_text(extra: bytes, s: _socket.socket) -> str:
    data = extra
    s.settimeout(2)
    try:
        while chunk := s.recv(65536):
            data += chunk
    except OSError:
        pass
    try:
        return jsonlite.loads(data).get("message", "")
    except ValueError:
        return data.decode(errors="replace")


class HijackedSocket:
    """The upgraded socket, with bytes that arrived with the response head first."""

    def __init__(self, sock: _socket.socket, pending: bytes):
        self.sock, self.pending = sock, pending

    def recv(self, n: int = 65536) -> bytes:
        if self.pending:
            data, self.pending = self.pending[:n], self.pending[n:]
            return data
        return self.sock.recv(n)

    def sendall(self, data: bytes) -> None:
        self.sock.sendall(data)

    def fileno(self) -> int:
        return self.sock.fileno()

    def shutdown_write(self) -> None:
        try:
            self.sock.shutdown(_socket.SHUT_WR)
        except OSError:
            pass

    def close(self) -> None:
        self.sock.close()


def _daemon_command() -> list[str]:
    """How to start dockyardd: the ``dockyardd`` beside this CLI's launcher (the venv's
    wrapper, whose interpreter has the daemon's dependencies; the lean CLI itself may run
    on another interpreter without them), else one on PATH, else this interpreter."""
    import os
    here = os.path.dirname(os.path.realpath(sys.argv[0])) if sys.argv and sys.argv[0] else ""
    dirs = ([here] if here else []) + os.environ.get("PATH", "").split(os.pathsep)
    for d in dirs:
        cand = os.path.join(d, "dockyardd")
        if d and os.access(cand, os.X_OK):
            return [cand]
    return [sys.executable, "-m", "dockyard.daemon"]
