"""docker's ``filters`` query parameter: decoded and checked against what an endpoint
accepts. An unknown key is a 400 (``invalid filter 'x'``), as with dockerd: a filter that
is silently ignored turns ``image prune --filter typo=1`` into "delete everything"."""
from __future__ import annotations

from dockyard.errors import InvalidArgument
from dockyard.filters import labels_match, until  # noqa: F401 - the routes use them from here

CONTAINER_PRUNE = ("until", "label", "label!")
IMAGE_PRUNE = ("dangling", "until", "label", "label!")
NETWORK_PRUNE = ("until", "label", "label!")
VOLUME_LIST = ("dangling", "name", "driver", "label")
VOLUME_PRUNE = ("label", "label!", "all")
EVENTS = ("container", "event", "image", "label", "type", "volume", "network", "daemon",
          "plugin", "node", "service", "secret", "config", "scope")
BUILD_PRUNE = ("until", "id", "parent", "type", "description", "inuse", "shared", "private")


def of(req, allowed: tuple[str, ...]) -> dict[str, list[str]]:
    """The request's filters as ``{key: [values]}`` (docker's ``{"k": {"v": true}}`` legacy
    form too), every key checked against ``allowed``."""
    raw = req.query_json("filters", {}) or {}
    if not isinstance(raw, dict):
        raise InvalidArgument("invalid filters: expected a JSON object")
    out: dict[str, list[str]] = {}
    for key, value in raw.items():
        if key not in allowed:
            raise InvalidArgument(f"invalid filter '{key}'")
        if isinstance(value, dict):
            out[key] = [k for k, on in value.items() if on]
        elif isinstance(value, list):
            out[key] = [str(v) for v in value]
        else:
            out[key] = [str(value)]
    return out
