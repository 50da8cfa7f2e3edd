"""Measuring commands from outside: wall time, CPU seconds, peak memory.

A timed command runs as a child and is reaped with ``os.wait4`` so its own rusage (CPU,
peak RSS, including the grandchildren it waited for) is exact. Daemons (dockerd,
containerd, dockyardd, the supervisor) do work on the client's behalf, so their CPU
delta over the same interval is added, and their peak RSS is taken from ``VmHWM``
after resetting it through ``/proc/PID/clear_refs``.
"""
from __future__ import annotations

import os
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass, field

CLK_TCK = os.sysconf("SC_CLK_TCK")
PAGE_KIB = os.sysconf("SC_PAGE_SIZE") // 1024


class CommandFailed(Exception):
    """A benchmarked command exited non-zero; ``reason`` is its first error line."""

    def __init__(self, argv: list[str], code: int, stderr: str):
        self.argv, self.code = argv, code
        self.reason = first_error_line(stderr) or f"exit status {code}"
        super().__init__(f"{' '.join(argv[:4])}…: {self.reason}")


def first_error_line(text: str) -> str:
    """The most telling line of a failed command's stderr (the last non-empty one that
    looks like an error, else the last non-empty one), trimmed to 160 characters."""
    lines = [ln.strip() for ln in (text or "").splitlines() if ln.strip()]
    for ln in reversed(lines):
        if "error" in ln.lower() or "unknown" in ln.lower() or "not " in ln.lower():
            return ln[:160]
    return lines[-1][:160] if lines else ""


@dataclass
class Sample:
    """One measured run: wall seconds, CPU seconds (client + daemons), peak MiB."""

    wall: float = 0.0
    cpu: float = 0.0
    peak_mib: float = 0.0
    extra: dict = field(default_factory=dict)

    def add(self, other: "Sample") -> None:
        self.wall += other.wall
        self.cpu += other.cpu
        self.peak_mib = max(self.peak_mib, other.peak_mib)


def run_cmd(argv: list[str], env: dict | None = None, stdin=None, timeout: float = 600,
            check: bool = True) -> tuple[Sample, str]:
    """Run ``argv`` and return its Sample (wall, the client's own CPU and peak RSS) and
    stdout. Output goes through temporary files so that the child can be reaped with
    ``os.wait4``, which yields exactly this child's rusage."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        t0 = time.perf_counter()
        proc = subprocess.Popen(argv, env=env, stdout=out, stderr=err,
                                stdin=stdin if stdin is not None else subprocess.DEVNULL)
        timer = threading.Timer(timeout, proc.kill)
        timer.start()
        try:
            _, status, ru = os.wait4(proc.pid, 0)
        finally:
            timer.cancel()
        wall = time.perf_counter() - t0
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0), err.seek(0)
        stdout, stderr = out.read().decode(errors="replace"), err.read().decode(errors="replace")
    if check and proc.returncode != 0:
        if proc.returncode == -9:
            stderr += f"\ntimed out after {timeout:.0f}s"
        raise CommandFailed(argv, proc.returncode, stderr)
    return Sample(wall=wall, cpu=ru.ru_utime + ru.ru_stime, peak_mib=ru.ru_maxrss / 1024), stdout


# -- daemon processes -------------------------------------------------------------------
def proc_cpu_seconds(pid: int) -> float:
    """utime + stime of one process, in seconds (0 if it is gone)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def reset_peak(pid: int) -> None:
    """Reset a process's VmHWM to its current RSS (kernel: clear_refs value 5)."""
    try:
        with open(f"/proc/{pid}/clear_refs", "w") as f:
            f.write("5")
    except OSError:
        pass


def status_kib(pid: int, key: str) -> int:
    """A ``kB`` field of /proc/PID/status (VmRSS, VmHWM), 0 when absent."""
    try:
        with open(f"/proc/{pid}/status") as f:
            return parse_status(f.read()).get(key, 0)
    except OSError:
        return 0


def parse_status(text: str) -> dict[str, int]:
    """The ``kB`` fields of a /proc/PID/status text."""
    out = {}
    for line in text.splitlines():
        key, _, rest = line.partition(":")
        parts = rest.split()
        if len(parts) == 2 and parts[1] == "kB":
            out[key] = int(parts[0])
    return out


def pss_kib(pid: int) -> int:
    """Proportional set size of a process (shared pages divided among sharers)."""
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            return parse_status(f.read()).get("Pss", 0)
    except OSError:
        return 0


class DaemonMeter:
    """CPU and peak-memory accounting of an engine's long-lived processes over an interval."""

    def __init__(self, pids_fn):
        self.pids_fn = pids_fn
        self.cpu0: dict[int, float] = {}

    def begin(self) -> None:
        self.cpu0 = {}
        for pid in self.pids_fn():
            self.cpu0[pid] = proc_cpu_seconds(pid)
            reset_peak(pid)

    def end(self) -> Sample:
        s = Sample()
        for pid in set(self.cpu0) | set(self.pids_fn()):
            s.cpu += max(0.0, proc_cpu_seconds(pid) - self.cpu0.get(pid, 0.0))
            s.peak_mib += status_kib(pid, "VmHWM") / 1024
        return s
