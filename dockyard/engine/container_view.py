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


def matches(rec: dict, filters: dict, image_ids=None) -> bool:
    """docker ps filters: id, name, status, label, ancestor, exited, before/since skipped."""
    for key, values in (filters or {}).items():
        vals = [k for k, on in values.items() if on] if isinstance(values, dict) else list(values)
        if not vals:
            continue
        # docker ANDs label filters (every label must match) and ORs the other keys' values
        combine = all if key == "label" else any
        if not combine(_match_one(rec, key, v, image_ids) for v in vals):
            return False
    return True


def _match_one(rec: dict, key: str, v: str, image_ids) -> bool:
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
    return True


def inspect(rec: dict) -> dict:
    out = dict(rec)
    out["State"] = dict(rec["State"])
    return out
