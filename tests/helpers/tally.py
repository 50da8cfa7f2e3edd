"""Counters the security and fault tiers fill and the session prints at the end."""
PROBES: list[tuple[str, str, str]] = []   # (engine, probe, BLOCKED|ESCAPED)
FAULTS = {"injected": 0, "survived": 0}


def summary_lines() -> list[str]:
    lines = []
    if PROBES:
        blocked = sum(1 for r in PROBES if r[2] == "BLOCKED")
        lines.append(f"security probes: {len(PROBES)} tried, {blocked} blocked, "
                     f"{len(PROBES) - blocked} escaped")
        lines += [f"  {v} {e} {n}" for e, n, v in PROBES if v != "BLOCKED"]
    if FAULTS["injected"]:
        lines.append(f"faults: {FAULTS['injected']} injected, {FAULTS['survived']} survived, "
                     f"objects lost = {FAULTS['injected'] - FAULTS['survived']}")
    return lines
