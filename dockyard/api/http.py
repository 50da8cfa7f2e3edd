"""Request and response objects that route handlers see.

A handler is ``handler(req, engine)`` and returns one of the response classes
below, or raises a :mod:`dockyard.errors` category (mapped to a status code in
:mod:`dockyard.api.errors`). The server (``api/server.py``) turns them into bytes.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Iterator
from urllib.parse import parse_qs

from dockyard.errors import InvalidArgument


class Request:
    """One API request; the body is read lazily through ``req.body``."""

    def __init__(self, method: str, path: str, query: str, headers: dict[str, str],
                 body, api_version: float):
        self.method = method
        self.path = path
        self.params = parse_qs(query, keep_blank_values=True)
        self.headers = headers
        self.body = body
        self.api_version = api_version
        self.match: dict[str, str] = {}
        self._json: Any = None

    def query(self, name: str, default: str | None = None) -> str | None:
        vals = self.params.get(name)
        return vals[-1] if vals else default

    def query_all(self, name: str) -> list[str]:
        return self.params.get(name, [])

    def query_bool(self, name: str, default: bool = False) -> bool:
        v = self.query(name)
        if v is None:
            return default
        return v.lower() not in ("", "0", "false", "no")

    def query_int(self, name: str, default: int | None = None) -> int | None:
        v = self.query(name)
        if v in (None, ""):
            return default
        try:
            return int(v)
        except ValueError:
            raise InvalidArgument(f"invalid value for query parameter {name}: {v!r} is not an integer") from None

    def query_time(self, name: str, default: float | None = 0.0) -> float | None:
        """A ``since``/``until`` parameter: unix seconds (fractions allowed) or RFC 3339."""
        v = self.query(name)
        if not v:
            return default
        try:
            return float(v)
        except ValueError:
            from dockyard.supervisor.logs import parse_time
            try:
                return parse_time(v)
            except ValueError:
                raise InvalidArgument(f"invalid timestamp for {name}: {v!r}") from None

    def query_json(self, name: str, default: Any = None) -> Any:
        v = self.query(name)
        if not v:
            return default
        try:
            return json.loads(v)
        except ValueError as e:
            raise InvalidArgument(f"invalid JSON in query parameter {name}: {e}") from None

    def json(self) -> Any:
        """The body parsed as a JSON object ({} when empty); anything else is a 400."""
        if self._json is None:
            raw = self.body.read()
            if not raw.strip():
                self._json = {}
            else:
                try:
                    self._json = json.loads(raw)
                except ValueError as e:
                    raise InvalidArgument(f"invalid JSON body: {e}") from None
                if not isinstance(self._json, dict):
                    kind = type(self._json).__name__
                    self._json = None
                    raise InvalidArgument(f"invalid JSON body: expected an object, got {kind}")
        return self._json


@dataclass
class JSON:
    obj: Any
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Empty:
    status: int = 204
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Raw:
    data: bytes
    content_type: str = "application/octet-stream"
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Stream:
    """A chunked response; headers go out before the first chunk is produced."""

    chunks: Iterable[bytes]
    content_type: str = "application/octet-stream"
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)


class JSONStream(Stream):
    """JSON-lines progress stream (pull, push, build, load, events)."""

    def __init__(self, objs: Iterable[dict], status: int = 200):
        super().__init__(_encode_lines(objs), "application/json", status)


def _encode_lines(objs: Iterable[dict]) -> Iterator[bytes]:
    for obj in objs:
        yield (json.dumps(obj) + "\r\n").encode()


def error_message(message: str) -> dict:
    """An error inside a JSON stream, in docker's shape."""
    return {"errorDetail": {"message": message}, "error": message}


@dataclass
class Hijack:
    """Take over the connection: ``fn(conn)`` gets a :class:`HijackedConn`.

    The server answers ``101 UPGRADED`` when the client asked for ``Upgrade: tcp``
    (docker CLI, docker-py) and ``200 OK`` otherwise, then the stream is raw.
    """

    fn: Callable[["HijackedConn"], None]
    content_type: str = "application/vnd.docker.raw-stream"


class HijackedConn:
    """The raw client socket after the upgrade, with bytes already buffered first."""

    def __init__(self, sock, pending: bytes):
        self.sock = sock
        self.pending = pending

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
        import socket
        try:
            self.sock.shutdown(socket.SHUT_WR)
        except OSError:
            pass

    def close(self) -> None:
        self.sock.close()
