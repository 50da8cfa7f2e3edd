"""EventService: in-memory publish/subscribe for ``GET /events`` with a bounded history.

``emit("container", "start", id, {"name": "web", "image": "busybox"})`` records one event in
docker's shape and wakes every subscriber. ``subscribe(filters, since, until)`` replays the
history newer than ``since`` and then yields live events until ``until`` passes (or forever).
"""
from __future__ import annotations

import collections
import threading
import time
from typing import Iterator

HISTORY = 1024


class EventService:
    def __init__(self, engine=None):
        self._history: collections.deque[dict] = collections.deque(maxlen=HISTORY)
        self._cond = threading.Condition()
        self._seq = 0

    def emit(self, type_: str, action: str, id_: str, attrs: dict | None = None) -> dict:
        """Publish one event; returns it."""
        now = time.time_ns()
        ev = {"Type": type_, "Action": action,
              "Actor": {"ID": id_, "Attributes": dict(attrs or {})},
              "scope": "local", "time": now // 1_000_000_000, "timeNano": now}
        if type_ == "container":  # the old top-level fields the docker CLI still reads
            ev.update(status=action, id=id_, **({"from": attrs["image"]} if attrs and "image" in attrs else {}))
        with self._cond:
            self._seq += 1
            self._history.append(ev)
            self._cond.notify_all()
        return ev

    def subscribe(self, filters: dict | None = None, since: float | None = None,
                  until: float | None = None, stop: threading.Event | None = None) -> Iterator[dict]:
        """Yield past events (since ``since``) then live ones until ``until`` or ``stop``."""
        with self._cond:
            seq = self._seq
            past = [e for e in self._history if since is not None and e["timeNano"] >= since * 1e9]
        for ev in past:
            if until is not None and ev["timeNano"] > until * 1e9:
                return
            if matches(ev, filters):
                yield ev
        if until is not None and until <= time.time():
            return
        yield from self._live(seq, filters, until, stop)

    def _live(self, seq: int, filters, until, stop) -> Iterator[dict]:
        while not (stop and stop.is_set()):
            with self._cond:
                timeout = None if until is None else max(0.0, until - time.time())
                if self._seq == seq:
                    self._cond.wait(min(timeout, 1.0) if timeout is not None else 1.0)
                new = self._seq - seq
                batch = list(self._history)[-new:] if new else []
                seq = self._seq
            for ev in batch:
                if matches(ev, filters):
                    yield ev
            if until is not None and time.time() >= until:
                return


def matches(ev: dict, filters: dict | None) -> bool:
    """docker's event filters: type, event/action, container/image/volume/network, label."""
    if not filters:
        return True
    actor = ev["Actor"]
    checks = {
        "type": lambda v: ev["Type"] == v,
        "event": lambda v: ev["Action"] == v or ev["Action"].split(":")[0] == v,
        "container": lambda v: ev["Type"] == "container" and _id_or_name(actor, v),
        "volume": lambda v: ev["Type"] == "volume" and _id_or_name(actor, v),
        "network": lambda v: ev["Type"] == "network" and _id_or_name(actor, v),
        "image": lambda v: actor["Attributes"].get("image") == v or actor["ID"] == v,
        "label": lambda v: _label(actor["Attributes"], v),
    }
    for key, values in filters.items():
        check = checks.get(key)
        if check and not any(check(v) for v in _values(values)):
            return False
    return True


def _values(values) -> list[str]:
    if isinstance(values, dict):  # docker's {"name": {"x": true}} form
        return [k for k, on in values.items() if on]
    return list(values) if isinstance(values, (list, tuple)) else [values]


def _id_or_name(actor: dict, v: str) -> bool:
    return actor["ID"].startswith(v) or actor["Attributes"].get("name") == v


def _label(attrs: dict, v: str) -> bool:
    key, _, val = v.partition("=")
    return key in attrs and (not val or attrs[key] == val)
