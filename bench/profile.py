"""Profile mode: where dockyard's time goes in one scenario.

- ``py-spy`` samples dockyardd and the supervisor (all threads, subprocesses too) while
  the scenario's measured runs execute; the raw collapsed stacks are kept and the
  functions with the most samples (own and inclusive) are printed.
- ``cprofile`` runs every dockyard CLI command of the scenario under cProfile (one .prof
  per command) and prints the merged top functions by cumulative time.
"""
from __future__ import annotations

import collections
import glob
import os
import pstats
import signal
import subprocess
import sys

from bench.engines import VENV_BIN


def pyspy_binary() -> str | None:
    path = os.path.join(VENV_BIN, "py-spy")
    return path if os.path.exists(path) else None


def start_pyspy(pid: int, out_path: str) -> subprocess.Popen:
    """py-spy record of ``pid`` and its children into collapsed stacks at ``out_path``."""
    return subprocess.Popen([pyspy_binary(), "record", "--pid", str(pid), "--subprocesses",
                             "--threads", "--rate", "250", "--format", "raw",
                             "--output", out_path, "--nonblocking"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def stop_pyspy(proc: subprocess.Popen) -> str:
    """Stop a recording (SIGINT makes py-spy write its output) and return its stderr."""
    proc.send_signal(signal.SIGINT)
    try:
        _, err = proc.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        _, err = proc.communicate()
    return err.decode(errors="replace")


def summarize_collapsed(text: str, top: int = 25) -> tuple[list, list, int]:
    """From collapsed stacks (``frame;frame;frame count`` lines): the ``top`` functions
    by own samples and by inclusive samples, and the total sample count."""
    own, incl, total = collections.Counter(), collections.Counter(), 0
    for line in text.splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        n = int(count)
        frames = [f for f in stack.split(";") if f and not f.startswith("process ")
                  and not f.startswith("thread ")]
        total += n
        if frames:
            own[frames[-1]] += n
        for f in set(frames):
            incl[f] += n
    return own.most_common(top), incl.most_common(top), total


def cprofile_cli(out_dir: str) -> list[str]:
    """The dockyard CLI argv prefix that writes one profile per command into out_dir."""
    n = len(glob.glob(os.path.join(out_dir, "cli-*.prof")))
    return [sys.executable, "-m", "cProfile", "-o", os.path.join(out_dir, f"cli-{n:04d}.prof"),
            "-m", "dockyard"]


def cprofile_report(out_dir: str, top: int = 25) -> str:
    files = sorted(glob.glob(os.path.join(out_dir, "cli-*.prof")))
    if not files:
        return "cProfile: no CLI profiles were written"
    import io
    buf = io.StringIO()
    stats = pstats.Stats(*files, stream=buf)
    stats.sort_stats("cumulative").print_stats(top)
    return f"cProfile of {len(files)} dockyard CLI commands (merged):\n" + buf.getvalue()


def format_top(title: str, rows: list, total: int) -> str:
    lines = [f"{title} ({total} samples):"]
    lines += [f"  {100 * n / max(total, 1):5.1f}%  {frame}" for frame, n in rows]
    return "\n".join(lines)
