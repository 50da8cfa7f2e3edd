"""The runtime's cgroup numbers in docker's ``/containers/{id}/stats`` shape."""
from __future__ import annotations

import os
import time


def docker_stats(rec: dict, raw: dict) -> dict:
    """``raw`` is runc-events-like: {cpu:{usage:{total,percpu}}, memory:{usage:{usage,limit}},
    pids:{current}} (dockyard's runtime returns the same keys)."""
    cpu = raw.get("cpu") or {}
    usage = cpu.get("usage") or {}
    mem = (raw.get("memory") or {}).get("usage") or {}
    ncpu = os.cpu_count() or 1
    total_mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    stats_cpu = {"cpu_usage": {"total_usage": usage.get("total", 0),
                               "percpu_usage": usage.get("percpu") or [],
                               "usage_in_kernelmode": usage.get("kernel", 0),
                               "usage_in_usermode": usage.get("user", 0)},
                 "system_cpu_usage": _system_cpu(), "online_cpus": ncpu,
                 "throttling_data": {"periods": 0, "throttled_periods": 0, "throttled_time": 0}}
    limit = mem.get("limit") or total_mem
    return {
        "read": time.strftime("%Y-%m-%dT%H:%M:%S.000000000Z", time.gmtime()),
        "preread": "0001-01-01T00:00:00Z", "id": rec["Id"], "name": rec["Name"],
        "pids_stats": {"current": (raw.get("pids") or {}).get("current", 0)},
        "cpu_stats": stats_cpu, "precpu_stats": {"cpu_usage": {"total_usage": 0},
                                                 "system_cpu_usage": 0, "online_cpus": ncpu},
        "memory_stats": {"usage": mem.get("usage", 0), "max_usage": mem.get("max", 0),
                         "limit": min(limit, total_mem),
                         "stats": (raw.get("memory") or {}).get("raw") or {}},
        "blkio_stats": {}, "networks": {},
    }


def _system_cpu() -> int:
    """Host CPU time in ns, as docker computes it from /proc/stat."""
    try:
        with open("/proc/stat") as f:
            parts = f.readline().split()[1:8]
        return sum(int(x) for x in parts) * 1_000_000_000 // os.sysconf("SC_CLK_TCK")
    except OSError:
        return 0
