"""cgroup v2 driver: one unified hierarchy (most current distributions).

Resources map as runc maps them: cpu.shares → cpu.weight, quota/period →
cpu.max, memory swap (memory+swap in OCI) → memory.swap.max = swap - limit,
blkio weight → io.weight. Device rules need an eBPF program on v2; this driver
does not load one (see docs/runtime.md).
"""
from __future__ import annotations

import os

from dockyard.runtime import syscalls as sc
from dockyard.runtime.cgroups.base import make_dirs, read, read_int, read_pids, remove_dirs, write


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
        usage = 0
        try:
            for line in read(os.path.join(self.dir, "cpu.stat")).splitlines():
                key, _, value = line.partition(" ")
                if key == "usage_usec":
                    usage = int(value) * 1000
        except OSError:
            pass
        d = self.dir
        return {
            "cpu": {"usage": {"total": usage}},
            "memory": {"usage": {"usage": read_int(os.path.join(d, "memory.current")) or 0,
                                 "max": read_int(os.path.join(d, "memory.peak")) or 0,
                                 "limit": read_int(os.path.join(d, "memory.max")) or 0}},
            "pids": {"current": read_int(os.path.join(d, "pids.current")) or 0,
                     "limit": read_int(os.path.join(d, "pids.max")) or 0},
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
