"""cgroup v2 driver: one unified hierarchy (most current distributions).

Resources map as runc maps them: cpu.shares → cpu.weight, quota/period →
cpu.max, memory swap (memory+swap in OCI) → memory.swap.max = swap - limit,
blkio weight → io.weight. Device rules need an eBPF program on v2; this driver
does not load one (see docs/runtime.md).
"""
from __future__ import annotations

import os

from dockyard.runtime import syscalls as sc
from dockyard.runtime.cgroups.base import (make_dirs, read, read_int, read_kv, read_pids,
                                           read_text, remove_dirs, write)


def shares_to_weight(shares: int) -> int:
    """cpu.shares (2..262144) → cpu.weight (1..10000), runc's formula."""
    return 0 if shares == 0 else 1 + ((shares - 2) * 9999) // 262142


def blkio_to_io_weight(weight: int) -> int:
    """blkio.weight (10..1000) → io.weight (1..10000)."""
    return 0 if weight == 0 else 1 + (weight - 10) * 9999 // 990


class V2Manager:
    """A container's cgroup in the unified hierarchy."""

    def __init__(self, path: str, root: str = "/sys/fs/cgroup", state: dict | None = None):
        self.path, self.root = path, root
        self.created: list[str] = list((state or {}).get("created", []))
        self.dir = os.path.join(root, path.lstrip("/"))

    def create(self) -> None:
        self._enable_controllers()
        make_dirs(self.root, self.path, self.created)

    def _enable_controllers(self) -> None:
        """Delegate every available controller down to our cgroup's parent."""
        available = read(os.path.join(self.root, "cgroup.controllers")).split()
        wanted = " ".join("+" + c for c in available)
        parent = self.root
        for part in [p for p in self.path.split("/") if p][:-1]:
            if wanted:
                write(os.path.join(parent, "cgroup.subtree_control"), wanted)
            parent = make_dirs(parent, part, self.created)
        if wanted:
            write(os.path.join(parent, "cgroup.subtree_control"), wanted)

    def apply(self, pid: int) -> None:
        write(os.path.join(self.dir, "cgroup.procs"), pid)

    def join_files(self) -> None:
        """None: on v2 a thread can only move within its threaded domain, so a
        process cannot join a new cgroup the cheap way (v1's ``tasks``, see
        V1Manager.join_files); the runtime uses :meth:`apply` from outside."""
        return None

    def set(self, resources: dict) -> None:
        mem = resources.get("memory") or {}
        limit = mem.get("limit")
        if limit is not None:
            self._w("memory.max", "max" if limit < 0 else limit)
        if mem.get("reservation") is not None:
            self._w("memory.low", mem["reservation"])
        if mem.get("swap") is not None:
            swap = mem["swap"]
            self._w("memory.swap.max", "max" if swap < 0 else max(swap - (limit or 0), 0))
        self._cpu(resources.get("cpu") or {})
        pids = resources.get("pids") or {}
        if "limit" in pids:
            self._w("pids.max", "max" if pids["limit"] <= 0 else pids["limit"])
        weight = (resources.get("blockIO") or {}).get("weight")
        if weight:
            self._w("io.weight", f"default {blkio_to_io_weight(weight)}")

    def _cpu(self, cpu: dict) -> None:
        if cpu.get("shares"):
            self._w("cpu.weight", shares_to_weight(cpu["shares"]))
        quota, period = cpu.get("quota"), cpu.get("period")
        if quota or period:
            q = "max" if not quota or quota < 0 else str(quota)
            self._w("cpu.max", f"{q} {period or 100000}")
        for key in ("cpus", "mems"):
            if cpu.get(key):
                self._w(f"cpuset.{key}", cpu[key])

    def _w(self, name: str, value) -> None:
        write(os.path.join(self.dir, name), value)

    def pids(self) -> list[int]:
        return read_pids(os.path.join(self.dir, "cgroup.procs"))

    def freeze(self) -> None:
        self._w("cgroup.freeze", 1)

    def thaw(self) -> None:
        self._w("cgroup.freeze", 0)

    def frozen(self) -> bool:
        return read_int(os.path.join(self.dir, "cgroup.freeze")) == 1

    def stats(self) -> dict:
        """The v1 driver's keys from the unified files: cpu.stat (µs → ns; no percpu
        on v2), memory.current/peak/max and memory.stat as ``raw``, pids, and io.stat
        as byte and IO entries with docker's v2 op names ("read"/"write"). Missing
        files give zeros or empty lists."""
        d = self.dir
        cpu = read_kv(os.path.join(d, "cpu.stat"))
        return {
            "cpu": {"usage": {"total": cpu.get("usage_usec", 0) * 1000, "percpu": [],
                              "kernel": cpu.get("system_usec", 0) * 1000,
                              "user": cpu.get("user_usec", 0) * 1000},
                    "throttling": {"periods": cpu.get("nr_periods", 0),
                                   "throttledPeriods": cpu.get("nr_throttled", 0),
                                   "throttledTime": cpu.get("throttled_usec", 0) * 1000}},
            "memory": {"usage": {"usage": read_int(os.path.join(d, "memory.current")) or 0,
                                 "max": read_int(os.path.join(d, "memory.peak")) or 0,
                                 "limit": read_int(os.path.join(d, "memory.max")) or 0},
                       "raw": read_kv(os.path.join(d, "memory.stat"))},
            "pids": {"current": read_int(os.path.join(d, "pids.current")) or 0,
                     "limit": read_int(os.path.join(d, "pids.max")) or 0},
            "blkio": _io_stat(os.path.join(d, "io.stat")),
        }

    def destroy(self) -> None:
        remove_dirs(self.created, {self.dir}, len([p for p in self.path.split("/") if p]) - 1)
        self.created = []

    def to_state(self) -> dict:
        return {"version": 2, "path": self.path, "created": self.created}

    def mount_into(self, dest: str, flags: int, cgroupns: bool) -> None:
        """cgroup2 fresh in a cgroup namespace, else a bind of our own directory."""
        sys_ = sc.get()
        hier = sc.MS_NOSUID | sc.MS_NODEV | sc.MS_NOEXEC | (flags & sc.MS_RDONLY)
        if cgroupns:
            sys_.mount("cgroup2", dest, "cgroup2", hier)
            return
        sys_.mount(self.dir, dest, None, sc.MS_BIND)
        sys_.mount(None, dest, None, sc.MS_REMOUNT | sc.MS_BIND | hier)


_IO_KEYS = {"rbytes": ("ioServiceBytesRecursive", "read"),
            "wbytes": ("ioServiceBytesRecursive", "write"),
            "rios": ("ioServicedRecursive", "read"),
            "wios": ("ioServicedRecursive", "write")}


def _io_stat(path: str) -> dict:
    """io.stat lines ``MAJ:MIN rbytes=N wbytes=N rios=N wios=N dbytes=N dios=N`` →
    {ioServiceBytesRecursive, ioServicedRecursive} entries (discards are left out,
    as docker leaves them out)."""
    out: dict[str, list] = {"ioServiceBytesRecursive": [], "ioServicedRecursive": []}
    for line in read_text(path).splitlines():
        if not line.strip():
            continue
        dev, *fields = line.split()
        major, sep, minor = dev.partition(":")
        if not sep or not major.isdigit() or not minor.isdigit():
            continue
        for field in fields:
            key, _, value = field.partition("=")
            if key in _IO_KEYS and value.isdigit():
                table, op = _IO_KEYS[key]
                out[table].append({"major": int(major), "minor": int(minor), "op": op,
                                   "value": int(value)})
    return out
