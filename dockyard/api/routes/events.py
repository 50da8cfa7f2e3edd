"""Engine API: GET /events (JSON lines, history since ``since``, live until ``until``)."""
from __future__ import annotations

from dockyard.api.http import JSONStream


def events(req, engine):
    since, until = req.query_time("since", None), req.query_time("until", None)
    if until is not None and since is None:
        since = 0.0
    from dockyard.api import filters as f
    filters = f.of(req, f.EVENTS)
    return JSONStream(engine.events.subscribe(filters, since, until))


ROUTES = [("GET", "/events", events)]
