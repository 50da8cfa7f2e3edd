"""BENCHMARKS.md and the ratio plot, written from a results document."""
from __future__ import annotations

import os
import platform
import subprocess

from bench.report import cpu_mem_table, markdown_table

INTRO = """\
# Benchmarks: dockyard against docker and podman

Every figure below comes from one run of the suite in `bench/` on the machine described,
all engines side by side in the same run. Absolute times drift between runs and machines:
compare the ratios of one run, not figures of different runs.

How it measures: the same inputs for every engine (a busybox rootfs tar and a Debian 12
minbase rootfs tar, made by the suite, imported into each engine); the daemons already
running (dockerd and dockyardd started by the suite on their own sockets and roots);
whole CLI commands timed from outside; a warm-up run where the scenario allows, then runs
interleaved engine by engine (A B C A B C …); medians with min–max over the measured
runs. CPU = the client's own CPU (rusage from wait4) plus the CPU the engine's
long-lived processes (dockerd, containerd, shims, docker-proxy, conmon, dockyardd, the
supervisor) used over the same interval. Peak memory = the client's max RSS plus the
daemons' high-water mark over the interval (reset through /proc/PID/clear_refs first).
Ratio = dockyard / best peer, so below 1 means dockyard is faster or smaller (for
throughput it is best peer / dockyard: above 1 still means dockyard is worse).
A scenario dockyard cannot run yet says so ("not supported: <error>").
"""


def machine() -> dict:
    """The facts that make a run comparable: kernel, cores, memory, versions."""
    with open("/proc/meminfo") as f:
        mem_kib = int(f.readline().split()[1])
    model = ""
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    return {"kernel": platform.release(), "cpus": os.cpu_count(), "cpu_model": model,
            "memory_gib": round(mem_kib / 1024 / 1024, 1), "python": platform.python_version(),
            "os": _os_release(), "cgroups": _cgroup_mode()}


def _os_release() -> str:
    try:
        with open("/etc/os-release") as f:
            for line in f:
                if line.startswith("PRETTY_NAME="):
                    return line.split("=", 1)[1].strip().strip('"')
    except OSError:
        pass
    return platform.platform()


def _cgroup_mode() -> str:
    if os.path.exists("/sys/fs/cgroup/cgroup.controllers"):
        return "v2"
    return "hybrid v1" if os.path.isdir("/sys/fs/cgroup/unified") else "v1"


def git_commit(repo: str) -> str:
    out = subprocess.run(["git", "-C", repo, "rev-parse", "--short", "HEAD"],
                         capture_output=True, text=True)
    return out.stdout.strip() or "unknown"


def benchmarks_md(doc: dict, plot_rel: str | None) -> str:
    m = doc["machine"]
    lines = [INTRO, "## Latest run", "",
             f"- Date: {doc['date']} (the run took {doc['duration_s'] / 60:.1f} min)",
             f"- Command: `{doc['command']}`",
             f"- Machine: {m['os']}, kernel {m['kernel']}, {m['cpus']} cores "
             f"({m['cpu_model']}), {m['memory_gib']} GiB, cgroups {m['cgroups']}; "
             f"load average {m.get('load_start', '?')} at the start, "
             f"{m.get('load_end', '?')} at the end (other work on the machine skews "
             "absolute figures; the interleaving spreads it over all engines alike)",
             "- Engines: " + "; ".join(f"{n} {v}" for n, v in doc["versions"].items()), "",
             markdown_table(doc), ""]
    if plot_rel:
        lines += [f"![dockyard / best peer per scenario]({plot_rel})", ""]
    lines += ["### CPU seconds and peak memory (medians)", "", cpu_mem_table(doc), ""]
    if doc.get("notes"):
        lines += ["### Notes", ""] + [f"- {n}" for n in doc["notes"]] + [""]
    lines += ["## Scenarios", "", SCENARIO_NOTES]
    return "\n".join(lines)


SCENARIO_NOTES = """\
`bb` = the busybox rootfs imported as `bench-bb`; `web` = bb with a page in /www, served
by busybox httpd; `deb` = the Debian 12 minbase rootfs (mmdebstrap) imported as
`bench-deb`. Published ports bind 127.0.0.1 only; all traffic stays on loopback and the
engines' own bridges.

- S1 `run --rm bench-bb true` on the default bridge network.
- S2 `run -d -p 127.0.0.1:PORT:3000 bench-web httpd …` until the first HTTP 200.
- S3 a 7-step Dockerfile on bb (FROM, LABEL, ADD dir, WORKDIR, RUN, EXPOSE, CMD), `--no-cache`.
- S4 the same build again with every step cached.
- S5 on deb: ENV, COPY 2,000 files (20 MB), WORKDIR, RUN (50 MB file), RUN useradd, USER,
  CMD; `--no-cache`.  S6 the same after one copied file changed (cache up to COPY).
- S7 `import` of the Debian rootfs tar.  S8 `push` of deb to a local docker-registry
  (storage wiped before every push; a push that leaves under 25 MB there is an error).  S9 `pull` of it back, the image removed locally first.
- S10s `save -o` deb (a tar under 25 MB is an error; sizes differ: docker and podman
  write layers uncompressed, dockyard may keep them gzipped);  S10l `load -i` of that tar, the image removed first.
- S11 20 detached `sleep` containers started one after another (total time).
- S12 host memory per idle container: growth of the PSS of the engine's host-side
  processes (dockerd + containerd + shims; conmon; dockyardd + supervisor) over S11's
  20 containers, divided by 20. Container processes themselves are not counted.
  S12r the same with RSS (counts shared pages in full, so it is higher than PSS).
- S13 `ps` with those 20 containers running.
- S14 200 MB from busybox httpd through the published port on 127.0.0.1 (curl to
  /dev/null); S14b the same straight to the container's IP on the engine's bridge.
"""


def plot_ratios(doc: dict, path: str) -> str | None:
    """A bar chart of dockyard / best peer per scenario (log scale); None if matplotlib
    is missing or there is nothing to plot."""
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return None
    recs = doc["scenarios"]
    if not recs:
        return None
    labels = [r["id"] for r in recs]
    # None = no figure (not supported); a true 0 (S12: no growth) is drawn at the floor.
    vals = [r["ratio"] for r in recs]
    floor = 0.01
    colors = ["#bbbbbb" if v is None else "#2a9d8f" if v <= 1 else "#e76f51" for v in vals]
    heights = [1 if v is None else max(v, floor) for v in vals]
    fig, ax = plt.subplots(figsize=(10, 4.2), dpi=110)
    ax.bar(labels, heights, color=colors, bottom=0)
    ax.axhline(1.0, color="black", linewidth=0.8)
    ax.set_yscale("log")
    from matplotlib.ticker import FuncFormatter, NullFormatter
    ax.yaxis.set_major_formatter(FuncFormatter(lambda y, _: f"{y:g}×"))
    ax.yaxis.set_minor_formatter(NullFormatter())
    ax.set_ylabel("dockyard / best peer (log; < 1 is better)")
    ax.set_title(f"dockyard vs best of {', '.join(n for n in doc['engines'] if n != 'dockyard')}"
                 f" — {doc['date'][:10]}")
    for x, (v, h) in enumerate(zip(vals, heights)):
        text = ("n/s" if v is None else f"{v:.2f}" if v >= 0.1 else f"{v:.2g}" if v > 0
                else "0")
        ax.text(x, h, text, ha="center", va="bottom", fontsize=8)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path
