"""Engine API: /volumes."""
from __future__ import annotations

from dockyard.api.http import JSON, Empty


def list_(req, engine):
    from dockyard.api import filters as f
    return JSON(engine.volumes.list(f.of(req, f.VOLUME_LIST)))


def create(req, engine):
    b = req.json() or {}
    return JSON(engine.volumes.create(b.get("Name") or None, b.get("Labels"), b.get("Driver"),
                                      b.get("DriverOpts")), status=201)


def inspect(req, engine):
    return JSON(engine.volumes.get(req.match["name"]))


def remove(req, engine):
    engine.volumes.remove(req.match["name"], force=req.query_bool("force"))
    return Empty()


def prune(req, engine):
    from dockyard.api import filters as f
    return JSON(engine.volumes.prune(f.of(req, f.VOLUME_PRUNE)))


ROUTES = [
    ("GET", "/volumes", list_),
    ("POST", "/volumes/create", create),
    ("POST", "/volumes/prune", prune),
    ("GET", "/volumes/{name}", inspect),
    ("DELETE", "/volumes/{name}", remove),
]
