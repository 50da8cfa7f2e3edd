"""Counters the security and fault tiers fill and the session prints at the end."""
PROBES: list[tuple[str, str, str]] = []   # (engine, probe, BLOCKED|ESCAPED)
FAULTS = {"injected": 0, "survived": 0}


def summary_lines() -> list[str]:
    lines = []
    for side, rows in (("dockyard", [r for r in PROBES if not r[0].startswith("dockerd")]),
                       ("dockerd (comparison)", [r for r in PROBES if r[0].startswith("dockerd")])):
        if rows:
            blocked = sum(1 for r in rows if r[2] == "BLOCKED")
            lines.append(f"security probes, {side}: {len(rows)} tried, {blocked} blocked, "
                         f"{len(rows) - blocked} escaped")
            lines += [f"  {v} {e} {n}" for e, n, v in rows if v != "BLOCKED"]
    if FAULTS["injected"]:
        lines.append(f"faults: {FAULTS['injected']} injected, {FAULTS['survived']} survived, "
                     f"objects lost = {FAULTS['injected'] - FAULTS['survived']}")
    return lines
