"""The runtime's cgroup numbers in docker's ``/containers/{id}/stats`` shape.

A sample is what dockerd 20.10+ answers on a cgroup v1 host: ``cpu_stats`` (total,
per-CPU, user and kernel time, throttling, the host's ``system_cpu_usage`` from
/proc/stat and ``online_cpus``), ``memory_stats`` (usage, max_usage, limit capped at the
host's memory, failcnt, memory.stat as ``stats``), ``blkio_stats`` (the runtime's
recursive byte and IO counters), ``pids_stats`` and ``networks`` (per interface of the
container's own endpoints, read from /proc/<pid>/net/dev: the counters inside the
container's netns, as libnetwork reads them, without entering it). ``precpu_stats`` and
``preread`` are set by the caller from an earlier sample (:func:`set_previous`).
"""
from __future__ import annotations

import os

from dockyard.supervisor.logs import rfc3339nano

ZERO_TIME = "0001-01-01T00:00:00Z"
BLKIO_KEYS = ("io_service_bytes_recursive", "io_serviced_recursive", "io_queue_recursive",
              "io_service_time_recursive", "io_wait_time_recursive", "io_merged_recursive",
              "io_time_recursive", "sectors_recursive")
# /proc/net/dev columns after "ifname:" → docker's NetworkStats keys
_NET_COLUMNS = {0: "rx_bytes", 1: "rx_packets", 2: "rx_errors", 3: "rx_dropped",
                8: "tx_bytes", 9: "tx_packets", 10: "tx_errors", 11: "tx_dropped"}
_NET_ORDER = ("rx_bytes", "rx_packets", "rx_errors", "rx_dropped", "tx_bytes", "tx_packets",
              "tx_errors", "tx_dropped")


def empty_cpu() -> dict:
    """docker's zero CPUStats (precpu of a one-shot answer, a stopped container)."""
    return {"cpu_usage": {"total_usage": 0, "usage_in_kernelmode": 0, "usage_in_usermode": 0},
            "throttling_data": {"periods": 0, "throttled_periods": 0, "throttled_time": 0}}


def not_running(rec: dict) -> dict:
    """What dockerd answers for a container that is not running: zeros, name and id."""
    return {"read": ZERO_TIME, "preread": ZERO_TIME, "pids_stats": {},
            "blkio_stats": {k: None for k in BLKIO_KEYS}, "num_procs": 0,
            "storage_stats": {}, "cpu_stats": empty_cpu(), "precpu_stats": empty_cpu(),
            "memory_stats": {}, "name": rec["Name"], "id": rec["Id"]}


def docker_stats(rec: dict, raw: dict, networks: dict | None = None,
                 system: tuple[int, int] | None = None) -> dict:
    """One sample. ``raw`` is runc-events-shaped (``runc events --stats``' data, which
    dockyard's runtime returns too): cpu.usage{total,percpu,kernel,user},
    cpu.throttling{periods,throttledPeriods,throttledTime}, memory.usage{usage,max,
    limit,failcnt}, memory.raw, pids{current,limit}, blkio{ioServiceBytesRecursive,
    ioServicedRecursive,…}. ``networks``: {ifname: counters}; None or empty omits the
    key, as docker does for host/none networking. ``system``: (system_cpu_usage ns,
    online cpus), read from /proc/stat when not given."""
    read = rfc3339nano()
    cpu = raw.get("cpu") or {}
    usage = cpu.get("usage") or {}
    throttling = cpu.get("throttling") or {}
    system_ns, ncpu = system or system_cpu()
    cpu_stats = {
        "cpu_usage": {"total_usage": usage.get("total") or 0,
                      "usage_in_kernelmode": usage.get("kernel") or 0,
                      "usage_in_usermode": usage.get("user") or 0},
        "system_cpu_usage": system_ns, "online_cpus": ncpu,
        "throttling_data": {"periods": throttling.get("periods") or 0,
                            "throttled_periods": throttling.get("throttledPeriods") or 0,
                            "throttled_time": throttling.get("throttledTime") or 0}}
    if usage.get("percpu"):  # cgroup v1 only, as docker
        cpu_stats["cpu_usage"]["percpu_usage"] = list(usage["percpu"])
    memory = raw.get("memory") or {}
    mem = memory.get("usage") or {}
    machine = _machine_memory()
    limit = mem.get("limit") or 0
    if limit <= 0 or (machine and limit > machine):  # unlimited: the host's memory
        limit = machine
    memory_stats = {"usage": mem.get("usage") or 0}
    if mem.get("max"):
        memory_stats["max_usage"] = mem["max"]
    memory_stats["stats"] = dict(memory.get("raw") or {})
    if "failcnt" in mem:  # cgroup v1 only
        memory_stats["failcnt"] = mem["failcnt"] or 0
    memory_stats["limit"] = limit
    pids = raw.get("pids") or {}
    pids_stats = {"current": pids.get("current") or 0}
    if (pids.get("limit") or 0) > 0:
        pids_stats["limit"] = pids["limit"]
    blkio = raw.get("blkio") or {}
    blkio_stats = {k: [] for k in BLKIO_KEYS}
    blkio_stats["io_service_bytes_recursive"] = _entries(blkio.get("ioServiceBytesRecursive"))
    blkio_stats["io_serviced_recursive"] = _entries(blkio.get("ioServicedRecursive"))
    out = {"read": read, "preread": ZERO_TIME, "pids_stats": pids_stats,
           "blkio_stats": blkio_stats, "num_procs": 0, "storage_stats": {},
           "cpu_stats": cpu_stats, "precpu_stats": empty_cpu(),
           "memory_stats": memory_stats, "name": rec["Name"], "id": rec["Id"]}
    if networks:
        out["networks"] = networks
    return out


def set_previous(cur: dict, prev: dict | None) -> dict:
    """``prev``'s cpu_stats and read time become ``cur``'s precpu_stats and preread."""
    if prev is not None:
        cur["precpu_stats"], cur["preread"] = prev["cpu_stats"], prev["read"]
    return cur


def _entries(entries) -> list[dict]:
    return [{"major": e.get("major", 0), "minor": e.get("minor", 0), "op": e.get("op", ""),
             "value": e.get("value", 0)} for e in entries or []]


def system_cpu(path: str = "/proc/stat") -> tuple[int, int]:
    """(host CPU time in ns, online CPUs) as dockerd computes them from /proc/stat: the
    first seven fields of the ``cpu`` line in USER_HZ ticks, and the ``cpuN`` lines."""
    try:
        with open(path) as f:
            text = f.read()
    except OSError:
        return 0, os.cpu_count() or 1
    total, ncpu = 0, 0
    for line in text.splitlines():
        if not line.startswith("cpu"):
            break  # the cpu lines come first
        parts = line.split()
        if parts[0] == "cpu":
            total = sum(int(x) for x in parts[1:8]) * 1_000_000_000 // os.sysconf("SC_CLK_TCK")
        else:
            ncpu += 1
    return total, ncpu or os.cpu_count() or 1


_MACHINE_MEMORY: list[int] = []


def _machine_memory() -> int:
    if not _MACHINE_MEMORY:
        _MACHINE_MEMORY.append(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))
    return _MACHINE_MEMORY[0]


def parse_net_dev(text: str, names=None) -> dict[str, dict]:
    """/proc/<pid>/net/dev → {ifname: docker's NetworkStats}; ``names`` keeps only those
    interfaces (a container's endpoints), else every one but ``lo``."""
    out: dict[str, dict] = {}
    for line in text.splitlines()[2:]:
        name, sep, rest = line.partition(":")
        name = name.strip()
        if not sep or name == "lo" or (names is not None and name not in names):
            continue
        cols = rest.split()
        if len(cols) < 16:
            continue
        stats = {_NET_COLUMNS[i]: int(cols[i]) for i in _NET_COLUMNS}
        out[name] = {k: stats[k] for k in _NET_ORDER}
    return out


def net_dev(pid: int, names=None) -> dict[str, dict]:
    """The counters of ``pid``'s network namespace, as the container sees them (its rx
    is what it received): one read of /proc/<pid>/net/dev, no setns."""
    if not pid:
        return {}
    try:
        with open(f"/proc/{pid}/net/dev") as f:
            return parse_net_dev(f.read(), names)
    except OSError:
        return {}
