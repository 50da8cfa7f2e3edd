"""What the test session left on the machine: compared at the end with the start.

Every test cleans up after itself; this is the check that they all did. It looks at
the kernel objects tests make (cgroups under the engines' ``dockyard`` parents,
network links, named network namespaces, mounts, iptables chains) and at processes
of ours, and names whatever is new. Nothing here removes anything: a leftover is a
bug of the test or of the code it ran, to be fixed there.
"""
from __future__ import annotations

import glob
import os
import subprocess
import time


def _cgroups() -> set[str]:
    """Every cgroup under the ``dockyard`` parents, and the parents themselves (a
    runtime that removes a container's cgroup may still leave a new parent behind)."""
    return {d.rstrip("/") for d in glob.glob("/sys/fs/cgroup/*/dockyard/**/", recursive=True)}


def _links() -> set[str]:
    try:
        return set(os.listdir("/sys/class/net"))
    except OSError:
        return set()


def _netns() -> set[str]:
    try:
        return set(os.listdir("/run/netns"))
    except OSError:
        return set()


def _mounts() -> set[str]:
    with open("/proc/self/mountinfo") as f:
        points = {line.split()[4] for line in f}
    return {p for p in points if "dockyard" in p or p.startswith("/tmp/")}


def _chains() -> set[str]:
    out = set()
    for tool in ("iptables-save", "ip6tables-save"):
        try:
            text = subprocess.run([tool], capture_output=True, text=True, timeout=30).stdout
        except (OSError, subprocess.SubprocessError):
            continue
        table = ""
        for line in text.splitlines():
            if line.startswith("*"):
                table = line[1:]
            elif line.startswith(":") and line.split()[1:2] == ["-"]:
                # a user chain (policy "-"): built-in ones appear on the first use of
                # a table on a fresh machine and are no one's leftover
                out.add(f"{tool.split('-')[0]} {table} {line[1:].split()[0]}")
    return out


def _ancestors() -> set[int]:
    pids, pid = set(), os.getpid()
    while pid > 1:
        pids.add(pid)
        try:
            with open(f"/proc/{pid}/stat") as f:
                pid = int(f.read().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            break
    return pids


def _processes() -> set[str]:
    """Our processes (daemons, supervisors, runtimes, registries, dockerd) by pid+cmdline;
    not this test run itself."""
    mine = _ancestors()
    found = set()
    for pid in os.listdir("/proc"):
        if not pid.isdigit() or int(pid) in mine:
            continue
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                cmd = f.read().replace(b"\0", b" ").decode(errors="replace").strip()
        except OSError:
            continue
        if any(k in cmd for k in ("dockyard", "pytest-of-", "docker-registry", "dockerd",
                                  "containerd")):
            found.add(f"{pid} {cmd[:160]}")
    return found


PROBES = {"cgroup": _cgroups, "link": _links, "netns": _netns, "mount": _mounts,
          "chain": _chains, "process": _processes}


def snapshot() -> dict[str, set[str]]:
    return {kind: probe() for kind, probe in PROBES.items()}


def new_since(before: dict[str, set[str]], settle: float = 3.0) -> list[str]:
    """What is there now and was not in ``before`` (``kind: name``). Processes and
    cgroups get ``settle`` seconds to go: a killed process takes a moment to be reaped."""
    deadline = time.monotonic() + settle
    while True:
        now = snapshot()
        found = [f"{kind}: {name}" for kind in PROBES for name in sorted(now[kind] - before[kind])]
        if not found or time.monotonic() >= deadline:
            return found
        time.sleep(0.2)
