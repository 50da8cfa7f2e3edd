"""Registry routes: login (``POST /auth``), push, distribution inspect.

Pull is ``POST /images/create?fromImage=`` in the images routes, which call
``engine.registry.pull_stream``. Credentials travel in ``X-Registry-Auth``
(base64url JSON AuthConfig), as docker sends them.
"""
from __future__ import annotations

from dockyard.api.http import JSON, JSONStream
from dockyard.registry.config import decode_auth_header


def registry_auth(req) -> dict | None:
    """The request's X-Registry-Auth credentials, or None when anonymous."""
    return decode_auth_header(req.headers.get("x-registry-auth"))


def auth(req, engine):
    body = req.json() or {}
    return JSON(engine.registry.login(body.get("username", ""), body.get("password", ""),
                                      body.get("serveraddress")))


def push(req, engine):
    stream = engine.registry.push_stream(req.match["name"], req.query("tag") or None,
                                         registry_auth(req))
    return JSONStream(stream)


def distribution(req, engine):
    return JSON(engine.registry.distribution_inspect(req.match["name"], registry_auth(req)))


ROUTES = [
    ("POST", "/auth", auth),
    ("POST", "/images/{name:.+}/push", push),
    ("GET", "/distribution/{name:.+}/json", distribution),
]
