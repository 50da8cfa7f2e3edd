"""Engine API: ``POST /build`` (classic builder protocol) and ``POST /build/prune``.

The body is the build context as a tar (plain or compressed); the response is a
JSON-lines stream: ``{"stream": "Step 1/7 : FROM node\\n"}``, ``{"aux": {"ID": ...}}``,
and errors as ``{"errorDetail": {"message": m, "code": n}, "error": m}``.
dockyard extension: ``explaincache=1`` adds, for each missed step, which input changed.
"""
from __future__ import annotations

import base64
import binascii
import json

from dockyard.api.http import JSON, JSONStream
from dockyard.build.state import BuildOptions
from dockyard.errors import InvalidArgument


def options_from_query(req) -> BuildOptions:
    """BuildOptions from ``POST /build`` query parameters (docker's names)."""
    if req.query("remote"):
        raise InvalidArgument("remote build contexts (remote=) are not supported: send the context as a tar body")
    buildargs = req.query_json("buildargs", {}) or {}
    labels = req.query_json("labels", {}) or {}
    if not isinstance(buildargs, dict) or not isinstance(labels, dict):
        raise InvalidArgument("buildargs and labels must be JSON objects")
    return BuildOptions(
        dockerfile=req.query("dockerfile") or "Dockerfile",
        tags=[t for t in req.query_all("t") if t],
        buildargs=buildargs, labels={k: str(v) for k, v in labels.items()},
        nocache=req.query_bool("nocache"), target=req.query("target") or "",
        quiet=req.query_bool("q"), rm=req.query_bool("rm", True),
        forcerm=req.query_bool("forcerm"), pull=req.query_bool("pull"),
        network=(req.query("networkmode") or "") if req.query("networkmode") != "default" else "",
        explain_cache=req.query_bool("explaincache"),
        registry_auth=_registry_config(req.headers.get("x-registry-config")))


def _registry_config(header: str | None) -> dict:
    """X-Registry-Config: base64url JSON ``{registry: AuthConfig}`` (``e30=`` is ``{}``)."""
    if not header:
        return {}
    try:
        data = json.loads(base64.urlsafe_b64decode(header + "=" * (-len(header) % 4)))
    except (ValueError, binascii.Error):
        raise InvalidArgument("X-Registry-Config is not base64url-encoded JSON") from None
    return data if isinstance(data, dict) else {}


def build(req, engine):
    opts = options_from_query(req)
    engine.builds.check_options(opts)
    return JSONStream(engine.builds.build_stream(req.body, opts))


def prune(req, engine):
    from dockyard.api import filters as f
    filters = f.of(req, f.BUILD_PRUNE)
    other = sorted(set(filters) - {"until"})
    if other:  # BuildKit's record kinds: the classic cache is one table of step keys
        raise InvalidArgument(f"build cache prune: filter '{other[0]}' is not supported by "
                              "dockyard's build cache (only until)")
    return JSON(engine.builds.prune(f.until(filters)))


ROUTES = [
    ("POST", "/build", build),
    ("POST", "/build/prune", prune),
]
