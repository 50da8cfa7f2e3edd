"""cgroup v1 driver: one directory per controller hierarchy (this machine)."""
from __future__ import annotations

import os

from dockyard.runtime import syscalls as sc
from dockyard.runtime.cgroups.base import (make_dirs, read, read_int, read_kv, read_text,
                                           read_pids, remove_dirs, write)

CONTROLLERS = ("cpu", "cpuacct", "cpuset", "memory", "devices", "freezer", "blkio", "pids",
               "net_cls", "net_prio", "hugetlb", "perf_event", "rdma", "misc", "systemd")
# mount option that names a hierarchy without a controller
_NAMED = {"systemd": "name=systemd"}


class V1Manager:
    """A container's cgroup in every mounted v1 hierarchy."""

    def __init__(self, path: str, root: str = "/sys/fs/cgroup", state: dict | None = None):
        self.path, self.root = path, root
        self.created: list[str] = list((state or {}).get("created", []))
        self.dirs = self._controller_dirs()

    def _controller_dirs(self) -> dict[str, str]:
        """controller → this cgroup's directory (comounted ones share a directory)."""
        dirs: dict[str, str] = {}
        try:  # one directory read instead of a stat (and a realpath) per name
            entries = {e.name: e for e in os.scandir(self.root)}
        except FileNotFoundError:
            return dirs
        root, rel = os.path.realpath(self.root), self.path.lstrip("/")
        for name in CONTROLLERS:
            entry = entries.get(name)
            if entry is None or not entry.is_dir():  # follows a symlink (cpu -> cpu,cpuacct)
                continue
            base = os.path.join(root, name)
            if entry.is_symlink():
                base = os.path.realpath(base)
            dirs[name] = os.path.join(base, rel)
        return dirs

    def _unique(self) -> list[str]:
        return sorted(set(self.dirs.values()))

    def create(self) -> None:
        for name, target in self.dirs.items():
            base = target[: len(target) - len(self.path.lstrip("/"))].rstrip("/")
            init = _inherit_cpuset if name == "cpuset" else None
            make_dirs(base, self.path, self.created, init)

    def apply(self, pid: int) -> None:
        for d in self._unique():
            write(os.path.join(d, "cgroup.procs"), pid)

    def join_files(self) -> list[int]:
        """Each hierarchy's ``tasks`` file, open for writing, for a forked
        single-threaded child to move *itself* in (:func:`base.join_self`).

        Why not ``apply(pid)``: a write of another pid to ``cgroup.procs`` takes
        the kernel's global cgroup_threadgroup_rwsem for writing, which waits for
        an RCU grace period, 10-15 ms here on every container start. Moving the
        calling thread ("0" into ``tasks``) needs no such lock (the kernel's
        cgroup_procs_write_start), ~0.1 ms for all nine hierarchies; a
        single-threaded process is wholly in its cgroup that way, and everything
        it forks later is born there. The files are opened here, by the runtime,
        so the child needs no path to the host's cgroupfs."""
        fds: list[int] = []
        try:
            for d in self._unique():
                path = os.path.join(d, "tasks")
                try:
                    fds.append(os.open(path, os.O_WRONLY | os.O_CLOEXEC))
                except OSError as e:
                    raise OSError(e.errno, f"open: {e.strerror}", path) from None
        except BaseException:
            for fd in fds:
                os.close(fd)
            raise
        return fds

    def set(self, resources: dict) -> None:
        _memory(self.dirs.get("memory"), resources.get("memory") or {})
        _cpu(self.dirs.get("cpu"), self.dirs.get("cpuset"), resources.get("cpu") or {})
        pids = resources.get("pids") or {}
        if "limit" in pids and self.dirs.get("pids"):
            limit = pids["limit"]
            write(os.path.join(self.dirs["pids"], "pids.max"), "max" if limit <= 0 else limit)
        _devices(self.dirs.get("devices"), resources.get("devices") or [])
        _blkio(self.dirs.get("blkio"), resources.get("blockIO") or {})

    def pids(self) -> list[int]:
        d = self.dirs.get("pids") or self.dirs.get("memory") or self._unique()[0]
        return read_pids(os.path.join(d, "cgroup.procs"))

    def freeze(self) -> None:
        self._freezer("FROZEN")

    def thaw(self) -> None:
        self._freezer("THAWED")

    def _freezer(self, want: str) -> None:
        state = os.path.join(self.dirs["freezer"], "freezer.state")
        # the kernel moves through FREEZING; re-writing FROZEN retries stragglers
        for _ in range(1000):
            write(state, want)
            if read(state) == want:
                return
        raise OSError(16, f"freezer did not reach {want}", state)

    def frozen(self) -> bool:
        try:
            return read(os.path.join(self.dirs["freezer"], "freezer.state")) != "THAWED"
        except (OSError, KeyError):
            return False

    def stats(self) -> dict:
        """runc-events-shaped numbers (``runc events --stats``'s keys): cpu usage (ns:
        total, percpu, user/kernel from cpuacct.stat's USER_HZ ticks) and throttling,
        memory usage/max/limit/failcnt and memory.stat as ``raw``, pids, and the
        blkio.throttle byte/IO counters. A missing file (a controller not mounted, a
        kernel without it) gives zeros or empty lists, never an error."""
        cpuacct, cpu, mem, pids, blkio = (self.dirs.get(k, "") for k in (
            "cpuacct", "cpu", "memory", "pids", "blkio"))
        ticks = read_kv(os.path.join(cpuacct, "cpuacct.stat"))
        hz = os.sysconf("SC_CLK_TCK") or 100
        throttle = read_kv(os.path.join(cpu, "cpu.stat"))
        return {
            "cpu": {"usage": {"total": read_int(os.path.join(cpuacct, "cpuacct.usage")) or 0,
                              "percpu": _ints(os.path.join(cpuacct, "cpuacct.usage_percpu")),
                              "kernel": ticks.get("system", 0) * 1_000_000_000 // hz,
                              "user": ticks.get("user", 0) * 1_000_000_000 // hz},
                    "throttling": {"periods": throttle.get("nr_periods", 0),
                                   "throttledPeriods": throttle.get("nr_throttled", 0),
                                   "throttledTime": throttle.get("throttled_time", 0)}},
            "memory": {"usage": {
                "usage": read_int(os.path.join(mem, "memory.usage_in_bytes")) or 0,
                "max": read_int(os.path.join(mem, "memory.max_usage_in_bytes")) or 0,
                "limit": read_int(os.path.join(mem, "memory.limit_in_bytes")) or 0,
                "failcnt": read_int(os.path.join(mem, "memory.failcnt")) or 0},
                "raw": read_kv(os.path.join(mem, "memory.stat"))},
            "pids": {"current": read_int(os.path.join(pids, "pids.current")) or 0,
                     "limit": read_int(os.path.join(pids, "pids.max")) or 0},
            "blkio": {"ioServiceBytesRecursive": _blkio_entries(
                          os.path.join(blkio, "blkio.throttle.io_service_bytes_recursive")),
                      "ioServicedRecursive": _blkio_entries(
                          os.path.join(blkio, "blkio.throttle.io_serviced_recursive"))},
        }

    def destroy(self) -> None:
        depth = len([p for p in self.path.split("/") if p]) - 1
        remove_dirs(self.created, set(self.dirs.values()), depth)
        self.created = []

    def to_state(self) -> dict:
        return {"version": 1, "path": self.path, "created": self.created}

    def mount_into(self, dest: str, flags: int, cgroupns: bool) -> None:
        """Mount /sys/fs/cgroup for the container: a tmpfs with one dir per hierarchy.

        With a cgroup namespace each hierarchy is mounted fresh (it shows the
        container's cgroup as its root); without one we bind the container's own
        directory, never the host's whole tree.
        """
        sys_ = sc.get()
        sys_.mount("tmpfs", dest, "tmpfs", sc.MS_NOSUID | sc.MS_NODEV | sc.MS_NOEXEC, "mode=755")
        for name, target in sorted(self.dirs.items()):
            sub = os.path.join(dest, name)
            os.makedirs(sub, exist_ok=True)
            hier_flags = sc.MS_NOSUID | sc.MS_NODEV | sc.MS_NOEXEC | (flags & sc.MS_RDONLY)
            if cgroupns:
                sys_.mount("cgroup", sub, "cgroup", hier_flags, _NAMED.get(name, name))
            else:
                sys_.mount(target, sub, None, sc.MS_BIND)
                sys_.mount(None, sub, None, sc.MS_REMOUNT | sc.MS_BIND | hier_flags)
        if flags & sc.MS_RDONLY:
            sys_.mount(None, dest, None, sc.MS_REMOUNT | sc.MS_RDONLY | sc.MS_NOSUID
                       | sc.MS_NODEV | sc.MS_NOEXEC, "mode=755")


def _ints(path: str) -> list[int]:
    """A line of integers (cpuacct.usage_percpu: one per possible CPU)."""
    try:
        return [int(x) for x in read_text(path).split()]
    except ValueError:
        return []


def _blkio_entries(path: str) -> list[dict]:
    """``MAJ:MIN Op value`` lines → runc's/docker's entries; the ``Total`` line (and a
    device-less line) is skipped, op names stay as the kernel prints them."""
    out = []
    for line in read_text(path).splitlines():
        parts = line.split()
        if len(parts) != 3 or ":" not in parts[0]:
            continue
        major, _, minor = parts[0].partition(":")
        try:
            out.append({"major": int(major), "minor": int(minor), "op": parts[1],
                        "value": int(parts[2])})
        except ValueError:
            continue
    return out


def _inherit_cpuset(path: str) -> None:
    """A new v1 cpuset starts empty and refuses tasks: copy the parent's cpus/mems."""
    parent = os.path.dirname(path)
    for name in ("cpuset.cpus", "cpuset.mems"):
        try:
            write(os.path.join(path, name), read(os.path.join(parent, name)))
        except FileNotFoundError:
            pass


def _memory(d: str | None, mem: dict) -> None:
    if not d or not mem:
        return
    limit, swap = mem.get("limit"), mem.get("swap")
    memsw = os.path.join(d, "memory.memsw.limit_in_bytes")
    # memsw must stay >= limit at every step: raise memsw first when the limit grows
    # (or memsw becomes unlimited), lower the limit first when it shrinks
    if swap is not None and os.path.exists(memsw):
        current = read_int(os.path.join(d, "memory.limit_in_bytes")) or 0
        if swap == -1 or limit is None or limit == -1 or limit > current:
            write(memsw, swap)
            swap = None
    if limit is not None:
        write(os.path.join(d, "memory.limit_in_bytes"), limit)
    if swap is not None and os.path.exists(memsw):
        write(memsw, swap)
    if mem.get("reservation") is not None:
        write(os.path.join(d, "memory.soft_limit_in_bytes"), mem["reservation"])
    if mem.get("swappiness") is not None and 0 <= mem["swappiness"] <= 100:
        write(os.path.join(d, "memory.swappiness"), mem["swappiness"])
    if mem.get("disableOOMKiller"):
        write(os.path.join(d, "memory.oom_control"), 1)


def _cpu(d: str | None, cpuset: str | None, cpu: dict) -> None:
    if d:
        for key, name in (("shares", "cpu.shares"), ("period", "cpu.cfs_period_us"),
                          ("quota", "cpu.cfs_quota_us"),
                          ("realtimePeriod", "cpu.rt_period_us"),
                          ("realtimeRuntime", "cpu.rt_runtime_us")):
            if cpu.get(key):
                write(os.path.join(d, name), cpu[key])
    if cpuset:
        for key in ("cpus", "mems"):
            if cpu.get(key):
                write(os.path.join(cpuset, f"cpuset.{key}"), cpu[key])


def device_rule(rule: dict) -> str:
    """``{"type":"c","major":1,"minor":3,"access":"rwm"}`` → ``c 1:3 rwm``."""
    def num(v):
        return "*" if v is None or v < 0 else str(v)
    kind = rule.get("type") or "a"
    if kind == "a":
        return f"a *:* {rule.get('access') or 'rwm'}"
    return f"{kind} {num(rule.get('major'))}:{num(rule.get('minor'))} {rule.get('access') or 'rwm'}"


# what runc always allows after the config's rules (specconv AllowedDevices)
DEFAULT_ALLOWED = [
    {"allow": True, "type": "c", "major": -1, "minor": -1, "access": "m"},
    {"allow": True, "type": "b", "major": -1, "minor": -1, "access": "m"},
    {"allow": True, "type": "c", "major": 1, "minor": 3, "access": "rwm"},   # null
    {"allow": True, "type": "c", "major": 1, "minor": 8, "access": "rwm"},   # random
    {"allow": True, "type": "c", "major": 1, "minor": 7, "access": "rwm"},   # full
    {"allow": True, "type": "c", "major": 5, "minor": 0, "access": "rwm"},   # tty
    {"allow": True, "type": "c", "major": 1, "minor": 5, "access": "rwm"},   # zero
    {"allow": True, "type": "c", "major": 1, "minor": 9, "access": "rwm"},   # urandom
    {"allow": True, "type": "c", "major": 136, "minor": -1, "access": "rwm"},  # pts
    {"allow": True, "type": "c", "major": 5, "minor": 2, "access": "rwm"},   # ptmx
    {"allow": True, "type": "c", "major": 10, "minor": 200, "access": "rwm"},  # tun
]


def _devices(d: str | None, rules: list[dict]) -> None:
    if not d or not rules:
        return
    for rule in rules + DEFAULT_ALLOWED:
        name = "devices.allow" if rule.get("allow") else "devices.deny"
        write(os.path.join(d, name), device_rule(rule))


def _blkio(d: str | None, blkio: dict) -> None:
    if not d or not blkio:
        return
    if blkio.get("weight"):
        weight = os.path.join(d, "blkio.weight")
        if not os.path.exists(weight):  # BFQ kernels only have the bfq file
            weight = os.path.join(d, "blkio.bfq.weight")
        write(weight, blkio["weight"])
    for key, name in (("throttleReadBpsDevice", "blkio.throttle.read_bps_device"),
                      ("throttleWriteBpsDevice", "blkio.throttle.write_bps_device"),
                      ("throttleReadIOPSDevice", "blkio.throttle.read_iops_device"),
                      ("throttleWriteIOPSDevice", "blkio.throttle.write_iops_device")):
        for dev in blkio.get(key) or []:
            write(os.path.join(d, name), f"{dev['major']}:{dev['minor']} {dev['rate']}")
