"""Host-side plumbing shared by the engines: processes, mounts, bridges, firewall rules.

Everything here acts only on what the suite itself made: processes are found by the
suite's own paths in their command lines, mounts by the suite's roots, and firewall
rules by the names and subnets the suite chose.
"""
from __future__ import annotations

import os
import shlex
import signal
import subprocess
import time

BASE_DATA = "/var/lib/dockyard-bench"
BASE_RUN = "/run/dockyard-bench"


def sh(*argv: str, check: bool = False) -> subprocess.CompletedProcess:
    """Run a plumbing command quietly (text output); not measured."""
    return subprocess.run(list(argv), capture_output=True, text=True, check=check)


def exclusive_lock():
    """Hold /run/dockyard-bench.lock for the whole run: two suites at once would share
    roots and ports. Processes of a crashed earlier run (anything still mentioning the
    suite's roots) are ended once the lock is ours."""
    import fcntl
    f = open("/run/dockyard-bench.lock", "w")
    try:
        fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        raise SystemExit("bench: another bench run holds /run/dockyard-bench.lock") from None
    stale = pids_matching([BASE_DATA, BASE_RUN])
    if stale:
        terminate(stale)
    return f


def my_pidns() -> str:
    return os.readlink("/proc/self/ns/pid")


def _proc_table() -> dict[int, tuple[int, str]]:
    """pid → (ppid, command line) of every host-namespace process but this one."""
    me, ns, table = os.getpid(), my_pidns(), {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == me:
            continue
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                cmd = f.read().replace(b"\0", b" ").decode(errors="replace")
            with open(f"/proc/{entry}/stat") as f:
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
            if os.readlink(f"/proc/{entry}/ns/pid") != ns:
                continue  # inside a container: the workload, not the engine
        except (OSError, ValueError, IndexError):
            continue
        table[int(entry)] = (ppid, cmd)
    return table


def pids_matching(markers: list[str]) -> list[int]:
    """Host-namespace processes whose command line mentions one of ``markers``, and
    their host-namespace descendants (docker-proxy, conmon's helpers, runc)."""
    table = _proc_table()
    found = {pid for pid, (_, cmd) in table.items() if any(m in cmd for m in markers)}
    grew = True
    while grew:
        kids = {pid for pid, (ppid, _) in table.items() if ppid in found} - found
        found |= kids
        grew = bool(kids)
    return sorted(found)


def cmdline(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def terminate(pids: list[int], grace: float = 10) -> None:
    """SIGTERM the given processes, SIGKILL those still alive after ``grace`` seconds."""
    for pid in pids:
        _signal(pid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline and any(_alive(p) for p in pids):
        time.sleep(0.05)
    for pid in pids:
        if _alive(pid):
            _signal(pid, signal.SIGKILL)


def _signal(pid: int, sig: int) -> None:
    try:
        os.kill(pid, sig)
    except ProcessLookupError:
        pass


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def mounts_under(base: str) -> list[str]:
    """Mount points at or below ``base``, deepest first."""
    found = []
    with open("/proc/self/mountinfo") as f:
        for line in f:
            mp = line.split()[4].encode().decode("unicode_escape")
            if mp == base or mp.startswith(base.rstrip("/") + "/"):
                found.append(mp)
    return sorted(found, key=len, reverse=True)


def unmount_under(base: str) -> None:
    for mp in mounts_under(base):
        sh("umount", "-l", mp)


def free_subnet(candidates: list[str]) -> str:
    """The first /24 of ``candidates`` (``a.b.c``) that no route on the host uses yet."""
    routes = sh("ip", "-4", "route", "show", "table", "all").stdout
    for c in candidates:
        if f"{c}." not in routes:
            return c
    raise RuntimeError(f"no free subnet among {candidates}")


def make_bridge(name: str, cidr: str) -> None:
    """Create and bring up bridge ``name`` with address ``cidr`` (replacing a stale one)."""
    sh("ip", "link", "del", name)
    sh("ip", "link", "add", name, "type", "bridge", check=True)
    sh("ip", "addr", "add", cidr, "dev", name, check=True)
    sh("ip", "link", "set", name, "up", check=True)


def delete_link(name: str) -> None:
    sh("ip", "link", "del", name)


def link_exists(name: str) -> bool:
    return os.path.exists(f"/sys/class/net/{name}")


def firewall_rules(table: str) -> list[str]:
    """``iptables -S`` lines of one table."""
    return sh("iptables", "-w", "-t", table, "-S").stdout.splitlines()


def drop_firewall(tokens: list[str], chain_prefixes: list[str]) -> list[str]:
    """Remove rules mentioning any of ``tokens`` (bridge names, subnets, chain names),
    then flush and delete chains starting with ``chain_prefixes``. Returns what was
    removed, so that the caller can report it."""
    removed = []
    for table in ("filter", "nat"):
        for rule in firewall_rules(table):
            if rule.startswith("-A ") and any(t in rule for t in tokens):
                sh("iptables", "-w", "-t", table, "-D", *shlex.split(rule)[1:])
                removed.append(f"{table}: {rule}")
        chains = [r.split()[1] for r in firewall_rules(table) if r.startswith("-N ")]
        for chain in chains:
            if any(chain.startswith(p) for p in chain_prefixes):
                sh("iptables", "-w", "-t", table, "-F", chain)
        for chain in chains:
            if any(chain.startswith(p) for p in chain_prefixes):
                sh("iptables", "-w", "-t", table, "-X", chain)
                removed.append(f"{table}: chain {chain}")
    return removed
