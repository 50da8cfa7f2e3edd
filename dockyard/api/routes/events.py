"""Engine API: GET /events (JSON lines, history since ``since``, live until ``until``)."""
from __future__ import annotations

from dockyard.api.http import JSONStream
from dockyard.errors import InvalidArgument


def _ts(v):
    if not v:
        return None
    try:
        return float(v)
    except ValueError:
        from dockyard.supervisor.logs import parse_time
        try:
            return parse_time(v)
        except ValueError:
            raise InvalidArgument(f"invalid timestamp: {v!r}") from None


def events(req, engine):
    since, until = _ts(req.query("since")), _ts(req.query("until"))
    if until is not None and since is None:
        since = 0.0
    filters = req.query_json("filters", {})
    return JSONStream(engine.events.subscribe(filters, since, until))


ROUTES = [("GET", "/events", events)]
