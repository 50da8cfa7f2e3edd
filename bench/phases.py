"""Where the time of ``run`` goes, per phase.

Inside view: the daemon logs one line per container start at debug level,
``run phases: lookup=1.2ms mount=3.4ms net=5.6ms cgroup=0.7ms start=12.3ms`` (any keys;
values with ms, s or us, plain numbers are milliseconds); the suite parses them from
dockyardd's log. Outside view (every engine): the CLI steps of ``run --rm`` timed one
by one: create (image lookup, rootfs, config), start (network, cgroup, runtime start),
wait (the process runs and exits), rm.
"""
from __future__ import annotations

import re

from bench.engines import Engine
from bench.stats import summarize

PHASE_LINE = re.compile(r"run phases:\s*(.*)$")
PAIR = re.compile(r"([A-Za-z_][\w.-]*)=([0-9]*\.?[0-9]+)(ms|us|µs|s)?")
SCALE_MS = {"ms": 1.0, "s": 1000.0, "us": 0.001, "µs": 0.001, "": 1.0}


def parse_phase_line(line: str) -> dict[str, float] | None:
    """``{phase: milliseconds}`` from one log line, or None when it is not a phase line."""
    m = PHASE_LINE.search(line)
    if not m:
        return None
    out = {k: float(v) * SCALE_MS[u] for k, v, u in PAIR.findall(m.group(1))}
    return out or None


def parse_phase_log(text: str) -> list[dict[str, float]]:
    """Every phase record in a daemon log, in order."""
    return [rec for rec in map(parse_phase_line, text.splitlines()) if rec]


API_LINE = re.compile(r"dockyard\.api: (GET|POST|DELETE|PUT|HEAD) (/v[\d.]+)?(/[^ ?]*)\S* "
                      r"([0-9.]+)ms")
API_STEPS = [("create", "POST", re.compile(r"^/containers/create$")),
             ("start", "POST", re.compile(r"^/containers/[^/]+/start$")),
             ("wait", "POST", re.compile(r"^/containers/[^/]+/wait$")),
             ("rm", "DELETE", re.compile(r"^/containers/[^/]+$"))]


def parse_api_log(text: str) -> dict[str, list[float]]:
    """Daemon-side milliseconds of the container API calls behind ``create``/``start``/
    ``wait``/``rm``, from dockyardd's debug lines ``dockyard.api: POST /v1.43/… 12.3ms``."""
    out: dict[str, list[float]] = {name: [] for name, _, _ in API_STEPS}
    for m in API_LINE.finditer(text):
        method, path, ms = m.group(1), m.group(3), float(m.group(4))
        for name, want, pattern in API_STEPS:
            if method == want and pattern.match(path):
                out[name].append(ms)
    return {k: v for k, v in out.items() if v}


def summarize_phases(records: list[dict[str, float]]) -> dict[str, dict]:
    """Median and range per phase over the records, in first-seen phase order."""
    keys: list[str] = []
    for rec in records:
        keys += [k for k in rec if k not in keys]
    return {k: summarize([r[k] for r in records if k in r]).as_dict() for k in keys}


def outside_steps(eng: Engine, reps: int) -> dict[str, dict]:
    """``run --rm bench-bb true`` split into its CLI steps, timed, ``reps`` times."""
    steps: dict[str, list[float]] = {"create": [], "start": [], "wait": [], "rm": []}
    for i in range(reps + 1):  # the first round is a warm-up
        name = f"bench-phase-{i}"
        times = {"create": eng.run("create", "--name", name, "bench-bb", "true")[0].wall,
                 "start": eng.run("start", name)[0].wall,
                 "wait": eng.run("wait", name)[0].wall,
                 "rm": eng.run("rm", name)[0].wall}
        if i:
            for k, v in times.items():
                steps[k].append(v * 1000)
    return {k: summarize(v).as_dict() for k, v in steps.items()}


def format_phases(title: str, table: dict[str, dict]) -> str:
    if not table:
        return f"{title}: no records"
    parts = [f"{k}={v['median']:.1f}ms ({v['min']:.1f}–{v['max']:.1f})" for k, v in table.items()]
    return f"{title}: " + "  ".join(parts)
