"""The suite's run: set up inputs and engines, run the scenarios, report, clean up."""
from __future__ import annotations

import datetime
import os
import shlex
import shutil
import sys
import tempfile
import time

from bench import hostenv, inputs, phases, publish, report
from bench.engines import Engine, make_engines
from bench.registry import Registry
from bench.runner import Outcome, Runner, describe
from bench.scenario import Context
from bench.scenarios_image import SCENARIOS as IMAGE_SCENARIOS
from bench.scenarios_run import LATE, SCENARIOS as RUN_SCENARIOS
from bench.setup import REPO
from bench.stats import summarize

ALL = [*RUN_SCENARIOS, *IMAGE_SCENARIOS, *LATE]
IMPORTS = [("bench-bb", inputs.busybox_tar), ("bench-web", inputs.web_tar),
           ("bench-deb", inputs.debian_tar)]


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def select(ids: str | None) -> list:
    """Scenario classes by id (``S1,S2,S14``), all of them by default; a derived one
    brings its source along."""
    if not ids:
        return [cls() for cls in ALL]
    want = {i.strip().upper() for i in ids.split(",") if i.strip()}
    known = {cls.id.upper() for cls in ALL}
    if want - known:
        raise SystemExit(f"bench: unknown scenario(s) {', '.join(sorted(want - known))}; "
                         f"known: {', '.join(cls.id for cls in ALL)}")
    want |= {cls.derived_from.upper() for cls in ALL if cls.id.upper() in want and cls.derived_from}
    return [cls() for cls in ALL if cls.id.upper() in want]


def start_engines(engines: list[Engine]) -> dict[str, str]:
    """Start each engine and import the inputs; returns engine → why it is unusable."""
    broken = {}
    for eng in engines:
        why = eng.missing()
        if why:
            broken[eng.name] = ("not supported" if eng.name == "dockyard" else "failed") + f": {why}"
            continue
        try:
            t0 = time.monotonic()
            eng.start()
            log(f"engine {eng.name}: started in {time.monotonic() - t0:.1f} s")
        except Exception as exc:
            broken[eng.name] = describe(eng, "daemon start", exc)
            log(f"engine {eng.name}: {broken[eng.name]}")
            continue
        for ref, make in IMPORTS:
            proc = eng.quiet("import", make(log), ref) if make is inputs.debian_tar \
                else eng.quiet("import", make(), ref)
            if proc.returncode != 0:
                log(f"engine {eng.name}: import {ref} failed: {proc.stderr.strip()[-200:]}")
    return broken


def stop_engines(engines: list[Engine]) -> list[str]:
    notes = []
    for eng in engines:
        if eng.missing():
            continue  # never started: nothing of it to stop
        try:
            left = eng.stop()
        except Exception as exc:
            left = [f"stop failed: {exc}"]
        if left:
            notes.append(f"{eng.name}: cleaned up after stop: " + "; ".join(left[:6]))
    return notes


def versions(engines: list[Engine]) -> dict[str, str]:
    fmt = {"docker": ("version", "-f", "dockerd {{.Server.Version}}"),
           "podman": ("version", "-f", "{{.Client.Version}} (runc)")}
    out = {}
    for eng in engines:
        if eng.name == "dockyard":
            out[eng.name] = f"commit {publish.git_commit(REPO)}"
            continue
        try:
            out[eng.name] = eng.quiet(*fmt[eng.name]).stdout.strip() or "?"
        except Exception:
            out[eng.name] = "?"
    return out


def measure_phases(engines: list[Engine], reps: int) -> dict:
    """The per-phase breakdown of ``run``: outside (CLI steps) for every engine, inside
    (the daemon's own ``run phases:`` log lines) for dockyard."""
    out = {}
    for eng in engines:
        entry = {}
        if eng.name == "dockyard":
            eng.restart(debug=True)  # its "run phases:" lines are debug-level
        try:
            entry["outside_ms"] = phases.outside_steps(eng, reps)
        except Exception as exc:
            entry["error"] = describe(eng, "phases", exc)
        if eng.name == "dockyard":
            recs = phases.parse_phase_log(eng.log_text())
            entry["inside_ms"] = phases.summarize_phases(recs) if recs else None
            entry["inside_records"] = len(recs)
            api = phases.parse_api_log(eng.log_text())
            entry["daemon_api_ms"] = {k: summarize(v).as_dict() for k, v in api.items()}
        out[eng.name] = entry
    return out


def run(args) -> int:
    """``python -m bench run``: the whole suite, then the table, JSON, plot, BENCHMARKS.md."""
    from bench import setup
    t0 = time.monotonic()
    load_start = round(os.getloadavg()[0], 1)
    peers = [p for p in (args.peers or "").split(",") if p]
    names = ([] if args.no_dockyard else ["dockyard"]) + peers
    scenarios = select(args.scenarios)
    if args.install_peers and peers:
        setup.install_peers(peers, log)
    setup.ensure_bench_deps(log)
    engines = make_engines(names, args)
    lock = hostenv.exclusive_lock()
    scratch = tempfile.mkdtemp(prefix="dockyard-bench-", dir="/var/tmp")
    registry, notes, results, phase_data = None, [], {}, {}
    try:
        registry = Registry().start()
        broken = start_engines(engines)
        live = [e for e in engines if e.name not in broken]
        runner = Runner(live, Context(registry, scratch), args.reps_scale, log)
        log(f"running {len(scenarios)} scenarios on {', '.join(e.name for e in live) or 'nothing'}")
        versions_cache["v"] = versions(engines)
        results = runner.run_all(scenarios)
        for sc in scenarios:
            for name, why in broken.items():
                results[sc.id][name] = Outcome(error=why)
        if not args.no_phases:
            phase_data = measure_phases(live, reps=max(3, round(5 * args.reps_scale)))
    finally:
        notes += stop_engines(engines)
        if registry:
            registry.stop()
        shutil.rmtree(scratch, ignore_errors=True)
        lock.close()
    doc = document(args, names, scenarios, results, phase_data, notes, time.monotonic() - t0)
    doc["machine"].update(load_start=load_start, load_end=round(os.getloadavg()[0], 1))
    return publish_all(doc, args)


def document(args, names, scenarios, results, phase_data, notes, duration) -> dict:
    recs = [report.scenario_record(sc, {n: results[sc.id][n] for n in names if n in results[sc.id]})
            for sc in scenarios if sc.id in results]
    return {"date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
            "command": args.command_line, "duration_s": round(duration, 1),
            "commit": publish.git_commit(REPO), "machine": publish.machine(),
            "engines": names, "versions": versions_cache.get("v", {}),
            "reps_scale": args.reps_scale, "scenarios": recs, "phases": phase_data,
            "notes": notes}


versions_cache: dict = {}


def publish_all(doc: dict, args, write_json: bool = True) -> int:
    print(report.terminal_table(doc))
    if doc.get("phases"):
        print()
        print(phases_text(doc["phases"]))
    if write_json:
        stamp = doc["date"].replace(" UTC", "").replace(" ", "-").replace(":", "")
        path = report.write_json(doc, os.path.join(REPO, "bench", "results", f"{stamp}.json"))
        log(f"results: {path}")
    if args.no_write:
        return 0
    png = publish.plot_ratios(doc, os.path.join(REPO, "bench", "ratios.png"))
    with open(os.path.join(REPO, "BENCHMARKS.md"), "w") as f:
        f.write(publish.benchmarks_md(doc, "bench/ratios.png" if png else None))
    log("updated BENCHMARKS.md" + (" and bench/ratios.png" if png else " (no plot: matplotlib missing)"))
    return 0


def phases_text(data: dict) -> str:
    lines = ["Per-phase breakdown of `run` (milliseconds, median (min–max)):"]
    for name, entry in data.items():
        if entry.get("error"):
            lines.append(f"  {name}: {entry['error']}")
        if entry.get("outside_ms"):
            lines.append("  " + phases.format_phases(f"{name} CLI steps", entry["outside_ms"]))
        if entry.get("daemon_api_ms"):
            lines.append("  " + phases.format_phases(f"{name} daemon time of those API calls",
                                                     entry["daemon_api_ms"]))
        if name == "dockyard" and "inside_ms" in entry:
            lines.append("  " + (phases.format_phases("dockyard daemon phases", entry["inside_ms"])
                                 if entry["inside_ms"] else
                                 "dockyard daemon phases: no 'run phases:' lines in its log"))
    return "\n".join(lines)


def rerender(path: str | None) -> int:
    """``python -m bench report``: BENCHMARKS.md and the plot again from a JSON result."""
    import glob
    import json
    from types import SimpleNamespace
    if not path:
        found = sorted(glob.glob(os.path.join(REPO, "bench", "results", "*.json")))
        if not found:
            raise SystemExit("bench: no results in bench/results; run `python -m bench run` first")
        path = found[-1]
    try:
        with open(path) as f:
            doc = json.load(f)
    except (OSError, ValueError) as exc:
        raise SystemExit(f"bench: cannot read results {path}: {exc}") from None
    log(f"rendering {path}")
    return publish_all(doc, SimpleNamespace(no_write=False), write_json=False)
