"""Read-only views of container records: ``ps`` rows, inspect, status text, filters."""
from __future__ import annotations

import time

from dockyard.supervisor.logs import parse_time
from dockyard.units import human_duration

ZERO_TIME = "0001-01-01T00:00:00Z"


def _ago(ts: str) -> float:
    return max(0.0, time.time() - parse_time(ts)) if ts and ts != ZERO_TIME else 0.0


def status_text(rec: dict) -> str:
    st = rec["State"]
    s = st["Status"]
    if s == "running":
        return f"Up {human_duration(_ago(st['StartedAt']))}" + _health(st)
    if s == "paused":
        return f"Up {human_duration(_ago(st['StartedAt']))} (Paused)"
    if s == "restarting":
        return f"Restarting ({st['ExitCode']}) {human_duration(_ago(st['FinishedAt']))} ago"
    if s == "exited":
        if st.get("FinishedAt", ZERO_TIME) == ZERO_TIME:
            return f"Exited ({st['ExitCode']})"
        return f"Exited ({st['ExitCode']}) {human_duration(_ago(st['FinishedAt']))} ago"
    if s == "removing":
        return "Removal In Progress"
    if s == "dead":
        return "Dead"
    return "Created"


def _health(st: dict) -> str:
    h = (st.get("Health") or {}).get("Status")
    return {"starting": " (health: starting)", "healthy": " (healthy)",
            "unhealthy": " (unhealthy)"}.get(h, "")


def ps_row(rec: dict) -> dict:
    """One ``GET /containers/json`` entry."""
    cfg = rec["Config"]
    cmd = " ".join([rec["Path"]] + rec["Args"]) if rec["Path"] else ""
    net = rec.get("NetworkSettings") or {}
    return {"Id": rec["Id"], "Names": [rec["Name"]], "Image": cfg.get("Image", ""),
            "ImageID": rec["Image"], "Command": cmd,
            "Created": int(parse_time(rec["Created"])), "Ports": ports(net),
            "Labels": cfg.get("Labels") or {}, "State": rec["State"]["Status"],
            "Status": status_text(rec),
            "HostConfig": {"NetworkMode": rec["HostConfig"].get("NetworkMode", "default")},
            "NetworkSettings": {"Networks": net.get("Networks") or {}},
            "Mounts": [{k: m.get(k) for k in ("Type", "Name", "Source", "Destination", "Driver",
                                              "Mode", "RW", "Propagation") if k in m}
                       for m in rec.get("Mounts", [])]}


def ports(net: dict) -> list[dict]:
    out = []
    for key, binds in (net.get("Ports") or {}).items():
        port, _, proto = key.partition("/")
        if not binds:
            out.append({"PrivatePort": int(port), "Type": proto or "tcp"})
        for b in binds or []:
            out.append({"IP": b.get("HostIp") or "0.0.0.0", "PrivatePort": int(port),
                        "PublicPort": int(b["HostPort"]), "Type": proto or "tcp"})
    return out


PS_FILTERS = ("ancestor", "before", "expose", "exited", "health", "id", "isolation",
              "is-task", "label", "name", "network", "publish", "since", "status", "volume")
STATES = ("created", "restarting", "running", "removing", "paused", "exited", "dead")
HEALTH = ("starting", "healthy", "unhealthy", "none")


def check_filters(filters: dict) -> None:
    """docker's validation of ``ps`` filters: an unknown key or a bad status/health value
    is a 400 (``invalid filter 'x'``), never silently ignored."""
    from dockyard.errors import InvalidArgument
    for key, values in (filters or {}).items():
        if key not in PS_FILTERS:
            raise InvalidArgument(f"invalid filter '{key}'")
        for v in _values(values):
            if key == "status" and v not in STATES:
                raise InvalidArgument(f"invalid filter 'status={v}'")
            if key == "health" and v not in HEALTH:
                raise InvalidArgument(f"Unrecognised filter value for health: {v}")
            if key in ("publish", "expose"):
                _ports(v)


def _values(values) -> list[str]:
    return [k for k, on in values.items() if on] if isinstance(values, dict) else list(values)


def matches(rec: dict, filters: dict, image_ids=None, lookup=None) -> bool:
    """docker ps filters (moby's daemon/list.go). ``image_ids(ref)`` resolves an image for
    ``ancestor``; ``lookup(ref)`` a container record for ``before``/``since``."""
    for key, values in (filters or {}).items():
        vals = _values(values)
        if not vals:
            continue
        # docker ANDs label filters (every label must match) and ORs the other keys' values
        combine = all if key == "label" else any
        if not combine(_match_one(rec, key, v, image_ids, lookup) for v in vals):
            return False
    return True


def _ports(spec: str) -> set[str]:
    """``80``, ``80/udp``, ``8000-8010/tcp`` → {"80/tcp", ...} (docker's nat.ParsePortRange)."""
    from dockyard.errors import InvalidArgument
    port, _, proto = spec.partition("/")
    lo, _, hi = port.partition("-")
    try:
        first, last = int(lo), int(hi or lo)
    except ValueError:
        raise InvalidArgument(f"invalid filter value {spec!r}: not a port or range") from None
    if not 0 < first <= last <= 65535 or (proto or "tcp") not in ("tcp", "udp", "sctp"):
        raise InvalidArgument(f"invalid filter value {spec!r}: not a port or range")
    return {f"{p}/{proto or 'tcp'}" for p in range(first, last + 1)}


def _match_one(rec: dict, key: str, v: str, image_ids, lookup=None) -> bool:
    st = rec["State"]
    if key == "id":
        return rec["Id"].startswith(v)
    if key == "name":
        import re
        return re.search(v, rec["Name"]) is not None or re.search(v, rec["Name"][1:]) is not None
    if key == "status":
        return st["Status"] == v
    if key == "exited":
        return st["Status"] == "exited" and str(st["ExitCode"]) == v
    if key == "label":
        k, _, val = v.partition("=")
        labels = rec["Config"].get("Labels") or {}
        return k in labels and (not val or labels[k] == val)
    if key == "ancestor":
        return rec["Config"].get("Image") == v or rec["Image"] == v or \
            (image_ids is not None and rec["Image"] in image_ids(v))
    if key == "volume":
        return any(m.get("Name") == v or m["Destination"] == v for m in rec.get("Mounts", []))
    if key == "network":
        return v in ((rec.get("NetworkSettings") or {}).get("Networks") or {})
    if key == "health":
        return ((st.get("Health") or {}).get("Status") or "none") == v
    if key in ("before", "since"):
        other = lookup(v) if lookup else None
        if other is None:
            from dockyard.errors import NotFound
            raise NotFound(f"No such container: {v}")
        if other["Id"] == rec["Id"]:
            return False
        return (parse_time(rec["Created"]) < parse_time(other["Created"])) == (key == "before")
    if key == "publish":
        return bool(_ports(v) & set((rec["HostConfig"].get("PortBindings") or {})))
    if key == "expose":
        return bool(_ports(v) & set(rec["Config"].get("ExposedPorts") or {}))
    if key == "is-task":
        return v.lower() in ("false", "0")  # no swarm tasks here
    return True  # isolation: one kind on Linux


def inspect(rec: dict) -> dict:
    out = dict(rec)
    out["State"] = dict(rec["State"])
    return out
