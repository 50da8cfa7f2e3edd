"""docker's human units (go-units): sizes in base 1000 and durations, shared by the
CLI's tables and the daemon's status texts (``Up 3 seconds``)."""
from __future__ import annotations


def human_size(n: float, precision: int = 4) -> str:
    """docker's units.HumanSizeWithPrecision: base 1000, ``precision`` significant digits
    (4 in most places, 3 in ``images`` and ``history``): ``2.3MB``, ``641.6MB``."""
    units = ["B", "kB", "MB", "GB", "TB", "PB"]
    i = 0
    n = float(n)
    while n >= 1000 and i < len(units) - 1:
        n /= 1000.0
        i += 1
    return f"{n:.{precision}g}{units[i]}"


def human_duration(seconds: float) -> str:
    """docker's units.HumanDuration: ``Less than a second``, ``3 seconds``, ``2 days``."""
    s = int(seconds)
    if s < 1:
        return "Less than a second"
    if s == 1:
        return "1 second"
    if s < 60:
        return f"{s} seconds"
    m = s // 60
    if m == 1:
        return "About a minute"
    if m < 60:
        return f"{m} minutes"
    h = round(s / 3600)
    if h == 1:
        return "About an hour"
    if h < 48:
        return f"{h} hours"
    if h < 24 * 7 * 2:
        return f"{h // 24} days"
    if h < 24 * 30 * 2:
        return f"{h // 24 // 7} weeks"
    if h < 24 * 365 * 2:
        return f"{h // 24 // 30} months"
    return f"{h // 24 // 365} years"
