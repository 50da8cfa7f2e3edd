"""``docker update``: merge a ``POST /containers/{id}/update`` body into a HostConfig.

Pure logic, as dockerd does it (daemon/update.go, container.UpdateContainer and the
resource checks of verifyContainerSettings with update=true): a value of 0 (or "" or
an absent PidsLimit) leaves the setting as it is; a bad value is a 400 naming it; an
update that contradicts what the container already has (CPU quota against --cpus, a
memory limit above the existing swap limit, a restart policy with --rm) is a 409.
:func:`live_resources` gives the OCI ``linux.resources`` a running container gets: only
the settings the update names, as dockerd hands containerd only those.
"""
from __future__ import annotations

import os

from dockyard.errors import Conflict, InvalidArgument

RESOURCE_KEYS = ("BlkioWeight", "CpuShares", "CpuPeriod", "CpuQuota", "CpuRealtimePeriod",
                 "CpuRealtimeRuntime", "CpusetCpus", "CpusetMems", "Memory", "MemorySwap",
                 "MemoryReservation", "KernelMemory", "NanoCpus", "PidsLimit")
_INTS = tuple(k for k in RESOURCE_KEYS if k not in ("CpusetCpus", "CpusetMems"))
MIN_MEMORY = 6 * 1024 * 1024
NO_BLKIO_WEIGHT = ("Your kernel does not support Block I/O weight or the cgroup is not "
                   "mounted. Weight discarded.")
NO_KERNEL_MEMORY = ("Your kernel does not support kernel memory limit capabilities or the "
                    "cgroup is not mounted. Limitation discarded.")


def requested(body: dict) -> dict:
    """The update's resource fields, as ints/strings; 0/""/None mean "not given"
    (PidsLimit: None only, as docker's *int64)."""
    out: dict = {}
    for key in RESOURCE_KEYS:
        value = body.get(key)
        if value is None:
            continue
        if key in _INTS:
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise InvalidArgument(f"invalid {key}: {value!r} is not a number")
            value = int(value)
            if value == 0 and key != "PidsLimit":
                continue
        elif not isinstance(value, str):
            raise InvalidArgument(f"invalid {key}: {value!r} is not a string")
        elif value == "":
            continue
        out[key] = value
    return out


def check(req: dict, ncpu: int, cpus_online: set[int], blkio_weight: bool,
          warnings: list[str]) -> dict:
    """verifyContainerSettings' resource checks on the update alone (400s); discards
    what this kernel cannot do with docker's warning. Returns the checked request."""
    req = dict(req)
    mem, swap = req.get("Memory", 0), req.get("MemorySwap", 0)
    if mem and mem < MIN_MEMORY:
        raise InvalidArgument("Minimum memory limit allowed is 6MB")
    if mem > 0 and swap > 0 and swap < mem:
        raise InvalidArgument("Minimum memoryswap limit should be larger than memory limit, "
                              "see usage")
    reservation = req.get("MemoryReservation", 0)
    if reservation and reservation < MIN_MEMORY:
        raise InvalidArgument("Minimum memory reservation allowed is 6MB")
    if mem > 0 and reservation > 0 and mem < reservation:
        raise InvalidArgument("Minimum memory limit can not be less than memory reservation "
                              "limit, see usage")
    if req.get("KernelMemory"):
        warnings.append(NO_KERNEL_MEMORY)
        del req["KernelMemory"]
    nano = req.get("NanoCpus", 0)
    if nano and (req.get("CpuPeriod") or req.get("CpuQuota")):
        which = "CPU Period" if req.get("CpuPeriod") else "CPU Quota"
        raise InvalidArgument(f"Conflicting options: Nano CPUs and {which} cannot both be set")
    if nano < 0 or nano > ncpu * 1_000_000_000:
        raise InvalidArgument(f"Range of CPUs is from 0.01 to {ncpu}.00, as there are only "
                              f"{ncpu} CPUs available")
    period = req.get("CpuPeriod", 0)
    if period and not 1000 <= period <= 1_000_000:
        raise InvalidArgument("CPU cfs period can not be less than 1ms (i.e. 1000) or larger "
                              "than 1s (i.e. 1000000)")
    quota = req.get("CpuQuota", 0)
    if 0 < quota < 1000:
        raise InvalidArgument("CPU cfs quota can not be less than 1ms (i.e. 1000)")
    for key in ("CpuShares", "CpuRealtimePeriod", "CpuRealtimeRuntime", "MemoryReservation"):
        if req.get(key, 0) < 0:
            raise InvalidArgument(f"invalid {key}: must not be negative")
    if mem < 0 and mem != -1:
        raise InvalidArgument("invalid Memory: must not be negative")
    weight = req.get("BlkioWeight", 0)
    if weight and not 10 <= weight <= 1000:
        raise InvalidArgument("Range of blkio weight is from 10 to 1000")
    if weight and not blkio_weight:
        warnings.append(NO_BLKIO_WEIGHT)
        del req["BlkioWeight"]
    if "CpusetCpus" in req:
        wanted = parse_cpuset(req["CpusetCpus"], "cpuset cpus")
        missing = wanted - cpus_online
        if missing:
            raise InvalidArgument(f"Requested CPUs are not available - requested "
                                  f"{req['CpusetCpus']}, available: {format_cpuset(cpus_online)}")
    if "CpusetMems" in req:
        parse_cpuset(req["CpusetMems"], "cpuset mems")
    if "PidsLimit" in req and req["PidsLimit"] < 0:
        req["PidsLimit"] = 0  # -1 (or any negative) is unlimited, stored as docker stores it
    return req


def check_create(hc: dict, warnings: list[str]) -> None:
    """The same checks on a new container's HostConfig (in place): what this kernel
    cannot do is discarded with docker's warning, and a memory limit without a swap
    limit gets swap = 2 x memory, as dockerd's adaptContainerSettings does."""
    if (hc.get("MemorySwap") or 0) > 0 and not hc.get("Memory"):
        raise InvalidArgument("You should always set the Memory limit when using Memoryswap "
                              "limit, see usage")
    req = check(requested(hc), *host_limits(), warnings)
    for key in ("BlkioWeight", "KernelMemory"):
        if hc.get(key) and key not in req:
            hc[key] = 0
    if (hc.get("Memory") or 0) > 0 and not hc.get("MemorySwap"):
        hc["MemorySwap"] = 2 * int(hc["Memory"])
    if hc.get("PidsLimit") is not None and int(hc["PidsLimit"]) <= 0:
        hc["PidsLimit"] = None  # 0 and -1 are "unlimited": dockerd keeps no limit (null)


def host_limits() -> tuple[int, set[int], bool]:
    """(CPUs, the online CPU set, whether a blkio weight can be set) on this machine."""
    try:
        with open("/sys/devices/system/cpu/online") as f:
            online = parse_cpuset(f.read().strip(), "online cpus")
    except (OSError, InvalidArgument):
        online = set(range(os.cpu_count() or 1))
    return os.cpu_count() or 1, online, _blkio_weight_supported()


def _blkio_weight_supported() -> bool:
    """cgroup v1: blkio.weight (CFQ) or blkio.bfq.weight at the hierarchy's root; v2:
    the io controller."""
    if any(os.path.exists(p) for p in ("/sys/fs/cgroup/blkio/blkio.weight",
                                       "/sys/fs/cgroup/blkio/blkio.bfq.weight")):
        return True
    try:
        with open("/sys/fs/cgroup/cgroup.controllers") as f:
            return "io" in f.read().split()
    except OSError:
        return False


def merge(current: dict, req: dict, restart: dict | None) -> dict:
    """container.UpdateContainer: the new HostConfig (a copy); 409 on a conflict with
    what the container already has. ``restart``: a checked RestartPolicy or None."""
    hc = dict(current)
    nano_now = hc.get("NanoCpus") or 0
    if req.get("NanoCpus") and (hc.get("CpuPeriod") or 0) > 0:
        raise Conflict("Conflicting options: Nano CPUs cannot be updated as CPU Period has "
                       "already been set")
    if req.get("NanoCpus") and (hc.get("CpuQuota") or 0) > 0:
        raise Conflict("Conflicting options: Nano CPUs cannot be updated as CPU Quota has "
                       "already been set")
    if req.get("CpuPeriod", 0) > 0 and nano_now > 0:
        raise Conflict("Conflicting options: CPU Period cannot be updated as NanoCPUs has "
                       "already been set")
    if req.get("CpuQuota", 0) > 0 and nano_now > 0:
        raise Conflict("Conflicting options: CPU Quota cannot be updated as NanoCPUs has "
                       "already been set")
    if "Memory" in req and req["Memory"] > (hc.get("MemorySwap") or 0) \
            and "MemorySwap" not in req:
        raise Conflict("Memory limit should be smaller than already set memoryswap limit, "
                       "update the memoryswap at the same time")
    for key, value in req.items():
        hc[key] = value
    if restart is not None:
        if hc.get("AutoRemove") and restart["Name"] not in ("", "no"):
            raise Conflict("Restart policy cannot be updated because AutoRemove is enabled "
                           "for the container")
        hc["RestartPolicy"] = restart
    return hc


def live_resources(req: dict) -> dict:
    """OCI ``linux.resources`` for the settings the update names (what runc update
    writes into the running container's cgroup)."""
    res: dict = {}
    mem = {}
    for key, oci in (("Memory", "limit"), ("MemorySwap", "swap"),
                     ("MemoryReservation", "reservation")):
        if key in req:
            mem[oci] = req[key]
    if mem:
        res["memory"] = mem
    cpu: dict = {}
    if "NanoCpus" in req:
        cpu["period"], cpu["quota"] = 100000, req["NanoCpus"] * 100000 // 1_000_000_000
    for key, oci in (("CpuPeriod", "period"), ("CpuQuota", "quota"), ("CpuShares", "shares"),
                     ("CpuRealtimePeriod", "realtimePeriod"),
                     ("CpuRealtimeRuntime", "realtimeRuntime"), ("CpusetCpus", "cpus"),
                     ("CpusetMems", "mems")):
        if key in req:
            cpu[oci] = req[key]
    if cpu:
        res["cpu"] = cpu
    if "PidsLimit" in req:
        res["pids"] = {"limit": req["PidsLimit"]}
    if "BlkioWeight" in req:
        res["blockIO"] = {"weight": req["BlkioWeight"]}
    return res


def parse_cpuset(value: str, what: str) -> set[int]:
    """``0-3,5`` → {0, 1, 2, 3, 5}; anything else is docker's "Invalid value"."""
    out: set[int] = set()
    for part in value.split(","):
        lo, dash, hi = part.strip().partition("-")
        try:
            a = int(lo)
            b = int(hi) if dash else a
        except ValueError:
            raise InvalidArgument(f"Invalid value {value} for {what}") from None
        if a < 0 or b < a:
            raise InvalidArgument(f"Invalid value {value} for {what}")
        out.update(range(a, b + 1))
    return out


def format_cpuset(cpus: set[int]) -> str:
    """{0, 1, 2, 5} → ``0-2,5`` (the kernel's list format)."""
    out, run = [], []
    for c in sorted(cpus):
        if run and c == run[-1] + 1:
            run.append(c)
            continue
        if run:
            out.append(f"{run[0]}-{run[-1]}" if len(run) > 1 else str(run[0]))
        run = [c]
    if run:
        out.append(f"{run[0]}-{run[-1]}" if len(run) > 1 else str(run[0]))
    return ",".join(out)
