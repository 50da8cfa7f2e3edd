"""The two developer modes: ``phases`` (where a ``run`` spends its time, every engine) and
``profile`` (dockyardd under py-spy and/or the dockyard CLI under cProfile, over the
measured runs of one scenario)."""
from __future__ import annotations

import os
import shutil
import tempfile
import time

from bench import app, hostenv, profile as prof
from bench.engines import make_engines
from bench.registry import Registry
from bench.runner import Runner
from bench.scenario import Context


def phases_mode(args) -> int:
    names = ([] if args.no_dockyard else ["dockyard"]) + [p for p in args.peers.split(",") if p]
    engines = make_engines(names, args)
    lock = hostenv.exclusive_lock()
    try:
        broken = app.start_engines(engines)
        for name, why in broken.items():
            print(f"{name}: {why}")
        data = app.measure_phases([e for e in engines if e.name not in broken], args.reps)
    finally:
        app.stop_engines(engines)
        lock.close()
    print(app.phases_text(data))
    return 0


class ProfiledDockyard:
    """Wraps the dockyard engine so each CLI command writes its own cProfile file."""

    def __init__(self, eng, out_dir: str):
        self.eng, self.out_dir = eng, out_dir
        eng.cli = lambda: prof.cprofile_cli(out_dir)


def profile_mode(args) -> int:
    from bench import setup
    setup.ensure_bench_deps(app.log)
    out = args.out or tempfile.mkdtemp(prefix="dockyard-profile-", dir="/var/tmp")
    os.makedirs(out, exist_ok=True)
    (sc,) = [s for s in app.select(args.scenario) if s.id.upper() == args.scenario.upper()]
    sc.reps, sc.derived_from = args.reps, None
    (eng,) = make_engines(["dockyard"], args)
    lock = hostenv.exclusive_lock()
    registry, scratch = Registry(), tempfile.mkdtemp(prefix="dockyard-bench-", dir="/var/tmp")
    try:
        registry.start()
        broken = app.start_engines([eng])
        if broken:
            print(broken["dockyard"])
            return 1
        return _profile(args, sc, eng, Context(registry, scratch), out)
    finally:
        app.stop_engines([eng])
        registry.stop()
        shutil.rmtree(scratch, ignore_errors=True)
        lock.close()


def _profile(args, sc, eng, ctx, out: str) -> int:
    use_spy = args.tool in ("py-spy", "both") and prof.pyspy_binary()
    if args.tool in ("py-spy", "both") and not use_spy:
        print("py-spy is not installed in the venv (pip install py-spy); daemon not sampled")
    if args.tool in ("cprofile", "both"):
        ProfiledDockyard(eng, out)
    raw = os.path.join(out, "dockyardd.collapsed.txt")
    spy = prof.start_pyspy(eng.proc.pid, raw) if use_spy else None
    time.sleep(0.5 if spy else 0)  # py-spy attaches before the first run
    t0 = time.monotonic()
    results = Runner([eng], ctx, 1.0, app.log).run_all([sc])
    wall = time.monotonic() - t0
    if spy:
        err = prof.stop_pyspy(spy)
        _print_pyspy(raw, err)
    if args.tool in ("cprofile", "both"):
        print(prof.cprofile_report(out))
    oc = results[sc.id]["dockyard"]
    print(f"{sc.id} on dockyard: {len(oc.samples)} runs in {wall:.1f} s"
          + (f"; {oc.error}" if oc.error else ""))
    print(f"profiles in {out}")
    return 0 if not oc.error else 1


def _print_pyspy(raw: str, err: str) -> None:
    try:
        with open(raw) as f:
            text = f.read()
    except OSError:
        print(f"py-spy wrote nothing: {err.strip()[-300:]}")
        return
    own, incl, total = prof.summarize_collapsed(text)
    print(prof.format_top("dockyardd + supervisor, own samples", own, total))
    print(prof.format_top("dockyardd + supervisor, inclusive samples", incl, total))
