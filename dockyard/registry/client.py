"""HTTP client for one registry: TLS or plain, pooled connections, auth, retries, redirects.

``RegistryClient(host, creds)`` talks to ``https://host/v2/…``. Hosts that are
insecure (loopback, or listed like docker's ``--insecure-registry``) try HTTPS
without verification first and fall back to plain HTTP, as docker does. Secure
hosts verify against the system CAs plus ``certs.d/<host>/*.crt``.

Every request gets the cached ``Authorization`` for its scope; a 401 is answered
through :class:`~dockyard.registry.auth.Authenticator` and the request sent once
more. Idempotent requests are retried with backoff on connection errors and on
429/5xx; a DNS failure or a connect timeout fails at once with the host named.
"""
from __future__ import annotations

import http.client
import ipaddress
import json
import socket
import ssl
import threading
import time
from urllib.parse import urljoin, urlsplit

from dockyard.errors import DockyardError, InvalidArgument, NotFound, Unavailable
from dockyard.registry import config
from dockyard.registry.auth import Authenticator, Unauthorized

CONNECT_TIMEOUT = 5.0
READ_TIMEOUT = 60.0
BLOCK = 1 << 20                       # socket send/receive block: big buffers, fewer syscalls
RETRY_STATUS = {429, 500, 502, 503, 504}
RETRIES = 4
_STALE = (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError, ssl.SSLEOFError)
_TRANSIENT = (ConnectionError, http.client.IncompleteRead, http.client.BadStatusLine,
              socket.timeout, ssl.SSLEOFError) + _STALE


# docker's default: loopback registries may be plain HTTP or unverified TLS
DEFAULT_INSECURE = ("127.0.0.0/8", "::1/128", "localhost")


def is_insecure(host: str, patterns=DEFAULT_INSECURE) -> bool:
    """Whether ``host`` matches one of ``patterns`` (``host[:port]``, name, or CIDR)."""
    name = urlsplit("//" + host).hostname or host
    if host in patterns or name in patterns:
        return True
    try:
        ip = ipaddress.ip_address(name)
    except ValueError:
        return False
    return any(ip in ipaddress.ip_network(c, strict=False) for c in patterns if "/" in c)


class Response:
    """A response whose connection goes back to the pool once the body is read."""

    def __init__(self, client: "RegistryClient", key, conn, resp: http.client.HTTPResponse, url):
        self._client, self._key, self._conn, self._resp = client, key, conn, resp
        self.status, self.url = resp.status, url
        self.headers = {k.lower(): v for k, v in resp.getheaders()}

    def read(self, n: int = -1) -> bytes:
        return self._resp.read(n) if n >= 0 else self._resp.read()

    def readinto(self, buf) -> int:
        return self._resp.readinto(buf)

    def body(self) -> bytes:
        try:
            return self._resp.read()
        finally:
            self.close()

    def json(self):
        data = self.body()
        try:
            return json.loads(data)
        except ValueError as e:
            raise InvalidArgument(f"{self.url}: registry sent invalid JSON: {e}") from e

    def close(self) -> None:
        if self._conn is None:
            return
        conn, self._conn = self._conn, None
        if self._resp.isclosed() and not self._resp.will_close:
            self._client._release(self._key, conn)
        else:
            conn.close()

    def __enter__(self) -> "Response":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def error_message(body: bytes) -> str:
    """A registry's ``{"errors": [{"code","message"}]}`` as docker prints it."""
    try:
        errs = json.loads(body).get("errors") or []
        return "; ".join(f"{e.get('code', '').lower().replace('_', ' ')}: {e.get('message', '')}"
                         for e in errs) or body.decode(errors="replace")[:200]
    except (ValueError, AttributeError):
        return body.decode(errors="replace").strip()[:200]


class RegistryClient:
    """Requests to one registry host with one set of credentials."""

    def __init__(self, host: str, creds: dict | None = None, insecure=DEFAULT_INSECURE,
                 certs_roots: tuple[str, ...] = config.CERTS_DIRS):
        self.host = host
        self.insecure = is_insecure(host, insecure)
        self._certs_roots = certs_roots
        self._scheme: str | None = None
        self._lock = threading.Lock()
        self._pool: dict[tuple, list] = {}
        self._ctx: dict[bool, ssl.SSLContext] = {}
        self.auth = Authenticator(host, creds, self.fetch)

    # -- connections -----------------------------------------------------------------------
    def _context(self, verify: bool) -> ssl.SSLContext:
        with self._lock:
            if verify not in self._ctx:
                self._ctx[verify] = self._make_context(verify)
            return self._ctx[verify]

    def _make_context(self, verify: bool) -> ssl.SSLContext:
        ctx = ssl.create_default_context()
        d = config.certs_dir(self.host, self._certs_roots)
        if d:
            cas, client = config.tls_files(d)
            for ca in cas:
                ctx.load_verify_locations(cafile=ca)
            if client:
                ctx.load_cert_chain(*client)
        if not verify:
            ctx.check_hostname, ctx.verify_mode = False, ssl.CERT_NONE
        return ctx

    def _connect(self, scheme: str, netloc: str, verify: bool):
        if scheme == "https":
            conn = http.client.HTTPSConnection(netloc, timeout=CONNECT_TIMEOUT,
                                               context=self._context(verify), blocksize=BLOCK)
        else:
            conn = http.client.HTTPConnection(netloc, timeout=CONNECT_TIMEOUT, blocksize=BLOCK)
        try:
            conn.connect()
        except socket.gaierror as e:
            raise Unavailable(f"cannot reach registry {netloc}: host name lookup failed "
                              f"({e.strerror})") from e
        except socket.timeout as e:
            raise Unavailable(f"cannot reach registry {netloc}: connect timed out after "
                              f"{CONNECT_TIMEOUT:g}s") from e
        except ssl.SSLCertVerificationError as e:
            raise Unavailable(f"{netloc}: TLS certificate not trusted ({e.verify_message}); put "
                              f"the registry's CA in /etc/docker/certs.d/{netloc}/ca.crt") from e
        conn.sock.settimeout(READ_TIMEOUT)
        return conn

    def _acquire(self, key):
        with self._lock:
            idle = self._pool.get(key)
            if idle:
                return idle.pop()
        return self._connect(*key)

    def _release(self, key, conn) -> None:
        with self._lock:
            self._pool.setdefault(key, []).append(conn)

    def close(self) -> None:
        with self._lock:
            conns = [c for lst in self._pool.values() for c in lst]
            self._pool.clear()
        for c in conns:
            c.close()

    # -- scheme --------------------------------------------------------------------------------
    def base(self) -> str:
        """``https://host`` or, for an insecure host without TLS, ``http://host``."""
        if self._scheme is None:
            self._scheme = self._probe_scheme()
        return f"{self._scheme}://{self.host}"

    def _probe_scheme(self) -> str:
        if not self.insecure:
            return "https"
        try:
            self._send_once("GET", f"https://{self.host}/v2/", {}, None).body()
            return "https"
        except (ssl.SSLError, ConnectionError, Unavailable, http.client.HTTPException, OSError):
            return "http"

    # -- requests --------------------------------------------------------------------------------
    def _send_once(self, method: str, url: str, headers: dict, body) -> Response:
        u = urlsplit(url)
        key = (u.scheme, u.netloc, not self.insecure)
        path = u.path + ("?" + u.query if u.query else "")
        for fresh in (False, True):
            conn = self._connect(*key) if fresh else self._acquire(key)
            try:
                conn.request(method, path, body=body, headers=headers)
                resp = conn.getresponse()
            except _STALE:
                conn.close()
                if fresh or (body is not None and not isinstance(body, (bytes, bytearray))):
                    raise
                continue  # a pooled keep-alive connection the server had closed: reconnect once
            except BaseException:
                conn.close()
                raise
            return Response(self, key, conn, resp, url)
        raise AssertionError("unreachable")

    def fetch(self, url: str, headers: dict, body: bytes | None = None) -> tuple[int, dict, bytes]:
        """One plain request to the token realm (POST when ``body``); for the authenticator."""
        r = self._send_with_retries("GET" if body is None else "POST", url, headers, body)
        return r.status, r.headers, r.body()

    def _send_with_retries(self, method: str, url: str, headers: dict, body) -> Response:
        replayable = body is None or isinstance(body, (bytes, bytearray))
        for attempt in range(RETRIES):
            last = attempt == RETRIES - 1 or not replayable
            try:
                r = self._send_once(method, url, headers, body)
            except _TRANSIENT as e:
                if last:
                    why = e.strerror if isinstance(e, OSError) and e.strerror else \
                        f"{e.__class__.__name__}: {e}"
                    raise Unavailable(f"cannot reach registry {urlsplit(url).netloc}: "
                                      f"{method} {urlsplit(url).path}: {why}") from e
            else:
                if r.status not in RETRY_STATUS or last:
                    return r
                r.body()
            time.sleep(0.2 * 2 ** attempt)
        raise AssertionError("unreachable")

    def request(self, method: str, path: str, *, scope: str | None = None,
                headers: dict | None = None, body=None, redirects: int = 5) -> Response:
        """Send ``method path`` (a ``/v2/…`` path or absolute URL) with auth, retries, redirects.

        Returns the response for any status; callers check ``status``. Raises
        Unavailable (cannot connect), Unauthorized (credentials refused).
        """
        url = path if "://" in path else self.base() + path
        own = urlsplit(url).netloc == self.host
        hdrs = dict(headers or {})
        for _ in range(2):
            auth = self.auth.header(scope) if own else None
            if auth:
                hdrs["Authorization"] = auth
            else:
                hdrs.pop("Authorization", None)
            r = self._send_with_retries(method, url, hdrs, body)
            if r.status != 401 or not own:
                break
            challenge = r.headers.get("www-authenticate", "")
            r.body()
            if not self.auth.challenge(challenge, scope, auth):
                raise Unauthorized(f"{self.host}: unauthorized ({method} {urlsplit(url).path})")
        else:
            raise Unauthorized(f"{self.host}: unauthorized: access to {scope or 'registry'} denied")
        if r.status in (301, 302, 303, 307, 308) and redirects and method in ("GET", "HEAD"):
            target = urljoin(url, r.headers.get("location", ""))
            r.body()
            return self._redirect(method, target, hdrs, scope, redirects - 1)
        return r

    def _redirect(self, method, url, headers, scope, redirects) -> Response:
        """Follow a blob redirect; credentials only go to the registry itself."""
        if urlsplit(url).netloc != self.host:
            headers = {k: v for k, v in headers.items() if k != "Authorization"}
        return self.request(method, url, scope=scope, headers=headers, redirects=redirects)

    def ping(self) -> Response:
        """``GET /v2/``: reachability, scheme and the auth challenge."""
        return self.request("GET", "/v2/")


def check(r: Response, what: str, ok=(200,)) -> Response:
    """Raise the category that fits an unexpected status, with the registry's message."""
    if r.status in ok:
        return r
    msg = f"{what}: {error_message(r.body())}"
    if r.status == 404:
        raise NotFound(msg)
    if r.status in (401, 403):
        raise Unauthorized(msg)
    if r.status in RETRY_STATUS:
        raise Unavailable(msg + f" (HTTP {r.status})")
    if 400 <= r.status < 500:
        raise InvalidArgument(msg + f" (HTTP {r.status})")
    raise DockyardError(msg + f" (HTTP {r.status})")
