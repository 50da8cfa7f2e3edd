"""Statistics over repeated measurements: medians with min-max, ratios to the best peer.

Pure functions only (unit-tested in tests/unit/bench/test_stats.py).
"""
from __future__ import annotations

import statistics
from dataclasses import dataclass


@dataclass(frozen=True)
class Summary:
    """Median with the range of one metric over the measured (non warm-up) runs."""

    median: float
    low: float
    high: float
    n: int

    def as_dict(self) -> dict:
        return {"median": self.median, "min": self.low, "max": self.high, "n": self.n}


def summarize(values: list[float]) -> Summary | None:
    """Median, min and max of ``values``; None when there are none."""
    vals = [float(v) for v in values if v is not None]
    if not vals:
        return None
    return Summary(statistics.median(vals), min(vals), max(vals), len(vals))


def best_peer(medians: dict[str, float | None], subject: str,
              higher_is_better: bool = False) -> tuple[str, float] | None:
    """The peer (not ``subject``) with the best median, or None when no peer has one."""
    peers = [(name, m) for name, m in medians.items() if name != subject and m is not None]
    if not peers:
        return None
    pick = max if higher_is_better else min
    return pick(peers, key=lambda p: p[1])


def ratio(subject: float | None, peer: float | None, higher_is_better: bool = False) -> float | None:
    """subject / peer for costs (time, memory); peer / subject for throughput, so that a
    ratio above 1 always means the subject is worse."""
    if subject is None or peer is None:
        return None
    if higher_is_better:
        return peer / subject if subject > 0 else None
    if peer <= 0:
        return None
    return subject / peer


def interleave(engines: list[str], reps: int) -> list[tuple[int, str]]:
    """The run order A B C A B C …: (repetition index, engine) pairs."""
    return [(i, e) for i in range(reps) for e in engines]


def fmt_value(value: float | None, unit: str) -> str:
    """A compact human form of one figure in its unit (s, MiB, MB/s)."""
    if value is None:
        return "-"
    if unit == "s":
        return f"{value * 1000:.0f} ms" if value < 1 else f"{value:.2f} s"
    if unit == "MB/s":
        return f"{value / 1000:.2f} GB/s" if value >= 1000 else f"{value:.0f} MB/s"
    if unit == "MiB":  # below 1 MiB in KiB, so that a near-zero cost still shows its size
        return f"{value:.1f} MiB" if abs(value) >= 1 else f"{value * 1024:.0f} KiB"
    return f"{value:.3g} {unit}"


def fmt_summary(s: Summary | None, unit: str) -> str:
    """``median (min–max)`` in the unit; a single run shows just the value."""
    if s is None:
        return "-"
    if s.n == 1 or s.low == s.high:
        return fmt_value(s.median, unit)
    return f"{fmt_value(s.median, unit)} ({fmt_value(s.low, unit)}–{fmt_value(s.high, unit)})"
