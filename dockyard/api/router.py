"""Route table and API version negotiation.

Every route is served both bare (``/images/json``) and under any ``/vX.Y/`` prefix up
to :data:`MAX_VERSION` (skopeo still sends ``/v1.22/``). Route modules export
``ROUTES = [(method, pattern, handler), …]``; in a pattern ``{x}`` is one path
segment and ``{x:.+}`` is greedy (image names contain ``/`` and ``:``). Literal
routes are tried before patterns, then patterns in declaration order.
"""
from __future__ import annotations

import importlib
import logging
import re
from typing import Callable

from dockyard.errors import InvalidArgument, NotFound, NotImplementedYet

MAX_VERSION = "1.43"
MIN_VERSION = "1.12"
ROUTE_MODULES = ["system", "images", "registry", "containers", "exec", "volumes",
                 "networks", "build", "events", "unimplemented"]
_VERSION_RE = re.compile(r"^/v(\d+)\.(\d+)(/.*)$")
_PARAM_RE = re.compile(r"\{(\w+)(?::([^}]+))?\}")
log = logging.getLogger("dockyard.api")

Handler = Callable


def version_tuple(v: str) -> tuple[int, int]:
    major, minor = v.split(".")
    return int(major), int(minor)


def split_version(path: str) -> tuple[float, str]:
    """Strip ``/vX.Y``; return (version as float, rest). Too new → InvalidArgument."""
    m = _VERSION_RE.match(path)
    if not m:
        return float(MAX_VERSION), path
    ver = (int(m.group(1)), int(m.group(2)))
    if ver > version_tuple(MAX_VERSION):
        raise InvalidArgument(f"client version {ver[0]}.{ver[1]} is too new. "
                              f"Maximum supported API version is {MAX_VERSION}")
    if ver < version_tuple(MIN_VERSION):
        raise InvalidArgument(f"client version {ver[0]}.{ver[1]} is too old. "
                              f"Minimum supported API version is {MIN_VERSION}")
    return float(f"{ver[0]}.{ver[1]:02d}" if ver[1] >= 10 else f"{ver[0]}.0{ver[1]}"), m.group(3)


def _compile(pattern: str) -> re.Pattern:
    out, pos = [], 0
    for m in _PARAM_RE.finditer(pattern):
        out.append(re.escape(pattern[pos:m.start()]))
        out.append(f"(?P<{m.group(1)}>{m.group(2) or '[^/]+'})")
        pos = m.end()
    out.append(re.escape(pattern[pos:]))
    return re.compile("^" + "".join(out) + "$")


class Router:
    def __init__(self, modules: list[str] = ROUTE_MODULES):
        self.literal: dict[tuple[str, str], Handler] = {}
        self.patterns: list[tuple[str, re.Pattern, Handler]] = []
        self.fallback: list[tuple[str, re.Pattern, Handler]] = []
        for name in modules:
            try:
                mod = importlib.import_module(f"dockyard.api.routes.{name}")
            except ImportError as e:
                log.warning("route module %s not loaded: %s", name, e)
                continue
            for method, pattern, handler in mod.ROUTES:
                self.add(method, pattern, handler, fallback=(name == "unimplemented"))

    def add(self, method: str, pattern: str, handler: Handler, fallback: bool = False) -> None:
        if "{" not in pattern and not fallback:
            self.literal[(method, pattern)] = handler
        else:
            (self.fallback if fallback else self.patterns).append(
                (method, _compile(pattern), handler))

    def resolve(self, method: str, path: str) -> tuple[Handler, dict[str, str]]:
        """Find the handler for ``path`` (already stripped of its version)."""
        lookup = "GET" if method == "HEAD" else method
        h = self.literal.get((method, path)) or self.literal.get((lookup, path))
        if h:
            return h, {}
        path_known = False
        for table in (self.patterns, self.fallback):
            for m_, rx, handler in table:
                mm = rx.match(path)
                if mm:
                    if m_ in (method, lookup):
                        return handler, mm.groupdict()
                    path_known = True
        if path_known or any(p == path for (_, p) in self.literal):
            raise NotImplementedYet(f"{method} {path}: method not supported by dockyard")
        raise NotFound("page not found")
