"""``python -m bench``: dockyard against docker and podman, side by side.

    .venv/bin/python -m bench run --peers docker,podman --install-peers
    .venv/bin/python -m bench run --scenarios S1,S2 --reps-scale 0.5 --no-write
    .venv/bin/python -m bench phases --peers docker,podman
    .venv/bin/python -m bench profile S1 --tool py-spy
    .venv/bin/python -m bench report [bench/results/<date>.json]

Needs root (it starts daemons, makes bridges). See BENCHMARKS.md for what it measures.
"""
from __future__ import annotations

import argparse
import os
import shlex
import sys


def common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--peers", default="", help="comma-separated peers: docker,podman")
    p.add_argument("--no-dockyard", action="store_true", help="only the peers (harness checks)")
    p.add_argument("--install-peers", action="store_true",
                   help="apt-get install the peers' Debian packages when they are missing")
    p.add_argument("--dockyard-cli", choices=["dockyard", "docker"], default="dockyard",
                   help="drive dockyardd with its own CLI (default) or the docker CLI")
    p.add_argument("--dockyard-runtime", help="dockyardd --runtime (dockyard or runc)")


def parse(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n")[0])
    sub = p.add_subparsers(dest="cmd")
    r = sub.add_parser("run", help="run the scenarios, write JSON, BENCHMARKS.md and the plot")
    common(r)
    r.add_argument("--scenarios", help="comma-separated ids (default: all S1-S14)")
    r.add_argument("--reps-scale", type=float, default=1.0,
                   help="multiply every scenario's repetition count (0.5 = quick look)")
    r.add_argument("--no-phases", action="store_true", help="skip the per-phase breakdown")
    r.add_argument("--no-write", action="store_true",
                   help="terminal and JSON only; leave BENCHMARKS.md and the plot alone")
    ph = sub.add_parser("phases", help="per-phase breakdown of `run` only")
    common(ph)
    ph.add_argument("--reps", type=int, default=10)
    pr = sub.add_parser("profile", help="profile dockyard over one scenario")
    common(pr)
    pr.add_argument("scenario", help="scenario id, e.g. S1")
    pr.add_argument("--tool", choices=["py-spy", "cprofile", "both"], default="both")
    pr.add_argument("--reps", type=int, default=5)
    pr.add_argument("--out", default=None, help="directory for the profiles")
    rp = sub.add_parser("report", help="re-render BENCHMARKS.md and the plot from a JSON result")
    rp.add_argument("json", nargs="?", help="bench/results/<date>.json (default: the newest)")
    args = p.parse_args(argv or ["run"])
    if args.cmd is None:
        args = p.parse_args(["run", *argv])
    args.command_line = ".venv/bin/python -m bench " + shlex.join(argv or ["run"])
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse(sys.argv[1:] if argv is None else argv)
    if args.cmd == "report":
        from bench.app import rerender
        return rerender(args.json)
    if os.geteuid() != 0:
        print("bench: needs root (it starts container engines and makes bridges)", file=sys.stderr)
        return 2
    if args.cmd == "run":
        from bench.app import run
        return run(args)
    if args.cmd == "phases":
        from bench.modes import phases_mode
        return phases_mode(args)
    from bench.modes import profile_mode
    return profile_mode(args)


if __name__ == "__main__":
    sys.exit(main())
