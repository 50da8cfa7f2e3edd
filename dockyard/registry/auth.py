"""Registry authentication: ``WWW-Authenticate`` challenges, basic auth, bearer tokens.

A registry answers an unauthenticated request with 401 and a challenge::

    WWW-Authenticate: Bearer realm="https://auth.example/token",service="reg",scope="repository:x:pull"

For ``Basic`` we send the credentials; for ``Bearer`` we ask the realm for a token
(``GET realm?service=…&scope=…``, with basic credentials when we have some) and
send ``Authorization: Bearer <token>``. Tokens are cached per scope until they expire.
"""
from __future__ import annotations

import base64
import json
import re
import threading
import time
from typing import Callable
from urllib.parse import urlencode

from dockyard.errors import DockyardError

_PARAM_RE = re.compile(r'\s*([A-Za-z0-9_.-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]*))\s*,?')

# fetch(url, headers, body) -> (status, headers, body): GET, or POST when body is given;
# supplied by the client (TLS, timeouts).
Fetch = Callable[[str, dict, "bytes | None"], tuple[int, dict, bytes]]


class Unauthorized(DockyardError):
    """Credentials missing or refused (HTTP 401)."""

    status = 401


def parse_challenges(header: str) -> list[tuple[str, dict]]:
    """``'Bearer realm="x",service="y"'`` → ``[("bearer", {"realm": "x", "service": "y"})]``."""
    out: list[tuple[str, dict]] = []
    rest = header.strip()
    while rest:
        m = re.match(r"([A-Za-z][A-Za-z0-9_-]*)\s*", rest)
        if not m:
            break
        scheme, rest = m.group(1).lower(), rest[m.end():]
        params = {}
        while (p := _PARAM_RE.match(rest)) and p.group(0).strip():
            value = p.group(2) if p.group(2) is not None else p.group(3)
            params[p.group(1).lower()] = re.sub(r"\\(.)", r"\1", value)
            rest = rest[p.end():]
        out.append((scheme, params))
        rest = rest.lstrip(", ")
    return out


def basic_header(username: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()


class Authenticator:
    """Answers challenges for one registry with one set of credentials (or none)."""

    def __init__(self, host: str, creds: dict | None, fetch: Fetch):
        self.host, self.creds, self._fetch = host, creds or {}, fetch
        self._lock = threading.Lock()
        self._scheme: str | None = None       # "basic" or "bearer" once challenged
        self._bearer: dict | None = None      # the challenge's realm/service
        self._tokens: dict[str, tuple[str, float]] = {}

    def header(self, scope: str | None) -> str | None:
        """The Authorization value for a request in ``scope``, if one is known."""
        if self.creds.get("registrytoken"):      # a bearer token handed to us as is
            return "Bearer " + self.creds["registrytoken"]
        with self._lock:
            if self._scheme == "basic" and self._has_password():
                return basic_header(self.creds["username"], self.creds["password"])
            tok = self._tokens.get(scope or "")
            if self._scheme == "bearer" and tok and tok[1] > time.monotonic():
                return "Bearer " + tok[0]
        return None

    def challenge(self, www_authenticate: str, scope: str | None, sent: str | None) -> bool:
        """Handle a 401's challenge; True when the request is worth sending again.

        ``sent`` is the Authorization the refused request carried: refused
        credentials are an error, not a reason to try again.
        """
        for scheme, params in parse_challenges(www_authenticate or ""):
            if scheme == "basic":
                if not self._has_password():
                    raise Unauthorized(f"{self.host}: authentication required (no credentials; "
                                       "run `dockyard login " + self.host + "`)")
                if sent and sent.startswith("Basic "):
                    raise Unauthorized(f"{self.host}: unauthorized: incorrect username or password")
                with self._lock:
                    self._scheme = "basic"
                return True
            if scheme == "bearer" and params.get("realm"):
                if sent and sent.startswith("Bearer ") and sent == self.header(scope):
                    raise Unauthorized(f"{self.host}: access to {scope or 'the registry'} denied "
                                       f"({params.get('error', 'token refused')})")
                with self._lock:
                    self._scheme, self._bearer = "bearer", params
                self._fetch_token(params, scope)
                return True
        return False

    def _oauth_refresh(self, params: dict, scope: str | None) -> tuple[int, bytes]:
        """OAuth2 refresh-token grant (docker login's identity token) at the realm."""
        form = {"grant_type": "refresh_token", "refresh_token": self.creds["identitytoken"],
                "service": params.get("service", ""), "client_id": "dockyard"}
        if scope:
            form["scope"] = scope
        status, _, body = self._fetch(params["realm"], {
            "Content-Type": "application/x-www-form-urlencoded"}, urlencode(form).encode())
        return status, body

    def _has_password(self) -> bool:
        return bool(self.creds.get("username") and self.creds.get("password"))

    def _fetch_token(self, params: dict, scope: str | None) -> None:
        query = {"service": params["service"]} if params.get("service") else {}
        url = params["realm"] + ("&" if "?" in params["realm"] else "?") + urlencode(query)
        if scope:
            # several scopes are separate `scope=` parameters
            url += "".join("&scope=" + s.replace(" ", "+") for s in scope.split(" "))
        if self.creds.get("identitytoken"):
            status, body = self._oauth_refresh(params, scope)
        else:
            headers = {}
            if self._has_password():
                headers["Authorization"] = basic_header(self.creds["username"],
                                                        self.creds["password"])
            status, _, body = self._fetch(url, headers, None)
        if status in (401, 403):
            raise Unauthorized(f"{self.host}: unauthorized: incorrect username or password")
        if status != 200:
            raise Unauthorized(f"{self.host}: token server {params['realm']} answered HTTP {status}")
        try:
            doc = json.loads(body)
            token = doc.get("token") or doc["access_token"]
        except (ValueError, KeyError, AttributeError) as e:
            raise Unauthorized(f"{self.host}: token server sent no token") from e
        ttl = max(int(doc.get("expires_in") or 60), 60) - 10
        with self._lock:
            self._tokens[scope or ""] = (token, time.monotonic() + ttl)
