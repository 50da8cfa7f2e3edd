"""Results as data (JSON), as a terminal table, as BENCHMARKS.md and as a PNG of ratios."""
from __future__ import annotations

import json
import os

from bench.runner import Outcome
from bench.scenario import Scenario
from bench.stats import best_peer, fmt_summary, fmt_value, ratio, summarize

SUBJECT = "dockyard"


def scenario_record(sc: Scenario, outcomes: dict[str, Outcome]) -> dict:
    """One scenario's results: per engine the summary of its figure, CPU and peak memory,
    then the best peer and the ratio dockyard / best peer (>1 means dockyard is worse)."""
    engines = {}
    for name, oc in outcomes.items():
        values = [sc.value(s) for s in oc.samples]
        entry = {"status": "ok" if not oc.error else oc.error.split(":", 1)[0],
                 "error": oc.error or None,
                 "value": _d(summarize([v for v in values if v is not None])),
                 "runs": [round(v, 6) for v in values if v is not None]}
        extras = sorted({k for s in oc.samples for k in s.extra})
        if extras and not sc.derived_from:
            entry["extra"] = {k: _d(summarize([s.extra.get(k) for s in oc.samples]))
                              for k in extras}
        if not sc.derived_from and sc.unit == "s":
            entry["cpu_s"] = _d(summarize([s.cpu for s in oc.samples]))
            entry["peak_mib"] = _d(summarize([s.peak_mib for s in oc.samples]))
        engines[name] = entry
    medians = {n: (e["value"] or {}).get("median") if not e["error"] else None
               for n, e in engines.items()}
    peer = best_peer(medians, SUBJECT, sc.higher_is_better)
    rec = {"id": sc.id, "title": sc.title, "unit": sc.unit,
           "higher_is_better": sc.higher_is_better, "engines": engines,
           "best_peer": peer[0] if peer else None,
           "ratio": _round(ratio(medians.get(SUBJECT), peer[1] if peer else None,
                                 sc.higher_is_better))}
    return rec


def _d(summary) -> dict | None:
    return {k: _round(v) for k, v in summary.as_dict().items()} if summary else None


def _round(v):
    return round(v, 6) if isinstance(v, float) else v


def cell(rec: dict, name: str) -> str:
    """One engine's cell: ``median (min–max)``, or why there is no figure."""
    e = rec["engines"].get(name)
    if e is None:
        return "—"
    if e["error"]:
        return e["error"] if len(e["error"]) < 90 else e["error"][:87] + "…"
    from bench.stats import Summary
    v = e["value"]
    if not v:
        return "-"
    return fmt_summary(Summary(v["median"], v["min"], v["max"], v["n"]), rec["unit"])


def ratio_cell(rec: dict) -> str:
    if rec["ratio"] is None:
        return "—"
    return f"{rec['ratio']:.2f}× ({rec['best_peer']})"


def table_rows(doc: dict) -> tuple[list[str], list[list[str]]]:
    names = doc["engines"]
    head = ["#", "scenario", *names, "dockyard / best peer"]
    rows = [[r["id"], r["title"], *[cell(r, n) for n in names], ratio_cell(r)]
            for r in doc["scenarios"]]
    return head, rows


def terminal_table(doc: dict) -> str:
    head, rows = table_rows(doc)
    widths = [min(48, max(len(str(x)) for x in col)) for col in zip(head, *rows)]
    lines = ["  ".join(str(c)[:w].ljust(w) for c, w in zip(head, widths))]
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(str(c)[:w].ljust(w) for c, w in zip(r, widths)) for r in rows]
    return "\n".join(lines)


def markdown_table(doc: dict) -> str:
    head, rows = table_rows(doc)
    out = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    out += ["| " + " | ".join(c.replace("|", "\\|") for c in r) + " |" for r in rows]
    return "\n".join(out)


def cpu_mem_table(doc: dict) -> str:
    """CPU seconds (client + daemons) and peak memory, medians, for timed scenarios."""
    names = doc["engines"]
    out = ["| # | " + " | ".join(f"{n} CPU | {n} peak" for n in names) + " |",
           "|---|" + "---|---|" * len(names)]
    for r in doc["scenarios"]:
        if r["unit"] != "s":
            continue
        cells = []
        for n in names:
            e = r["engines"].get(n) or {}
            cpu, peak = e.get("cpu_s"), e.get("peak_mib")
            cells += [fmt_value(cpu["median"], "s") if cpu and not e.get("error") else "—",
                      fmt_value(peak["median"], "MiB") if peak and not e.get("error") else "—"]
        out.append(f"| {r['id']} | " + " | ".join(cells) + " |")
    return "\n".join(out)


def write_json(doc: dict, path: str) -> str:
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path + ".tmp", "w") as f:
        json.dump(doc, f, indent=1)
    os.replace(path + ".tmp", path)
    return path
