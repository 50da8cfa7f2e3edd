"""dockyard update: change the resource limits or restart policy of containers."""
from __future__ import annotations

HELP = "Update configuration of one or more containers"


def configure(p) -> None:
    a = p.add_argument
    a("--blkio-weight", help="Block IO (relative weight), between 10 and 1000, or 0 to disable")
    a("--cpu-period", help="Limit CPU CFS (Completely Fair Scheduler) period")
    a("--cpu-quota", help="Limit CPU CFS (Completely Fair Scheduler) quota")
    a("--cpu-rt-period", help="Limit the CPU real-time period in microseconds")
    a("--cpu-rt-runtime", help="Limit the CPU real-time runtime in microseconds")
    a("-c", "--cpu-shares", help="CPU shares (relative weight)")
    a("--cpus", help="Number of CPUs")
    a("--cpuset-cpus", help="CPUs in which to allow execution (0-3, 0,1)")
    a("--cpuset-mems", help="MEMs in which to allow execution (0-3, 0,1)")
    a("--kernel-memory", help="Kernel memory limit")
    a("-m", "--memory", help="Memory limit")
    a("--memory-reservation", help="Memory soft limit")
    a("--memory-swap", help="Swap limit equal to memory plus swap: '-1' to enable unlimited swap")
    a("--pids-limit", help="Tune container pids limit (set -1 for unlimited)")
    a("--restart", help="Restart policy to apply when a container exits")
    p.add_argument("containers", nargs="+", metavar="CONTAINER")


def _bad(flag: str, value: str, why: str):
    from dockyard.cli.main import CommandError
    return CommandError(f"invalid argument \"{value}\" for \"{flag}\" flag: {why}\n"
                        "See 'dockyard update --help'.", 125)


def _int(flag: str, value: str) -> int:
    try:
        return int(value, 10)
    except ValueError:
        raise _bad(flag, value, f"strconv.ParseInt: parsing \"{value}\": invalid syntax") \
            from None


def _size(flag: str, value: str, allow_unlimited: bool = False) -> int:
    from dockyard.cli.commands import _runopts
    from dockyard.cli.main import CommandError
    if allow_unlimited and value.strip() == "-1":
        return -1
    try:
        return _runopts.ram_size(flag, value)
    except CommandError:
        raise _bad(flag, value, f"invalid size: '{value}'") from None


def body(args) -> dict:
    """The request body from the flags given (docker's UpdateConfig); empty if none."""
    out: dict = {}
    for flag, key in (("--blkio-weight", "BlkioWeight"), ("--cpu-period", "CpuPeriod"),
                      ("--cpu-quota", "CpuQuota"), ("--cpu-rt-period", "CpuRealtimePeriod"),
                      ("--cpu-rt-runtime", "CpuRealtimeRuntime"),
                      ("-c, --cpu-shares", "CpuShares"), ("--pids-limit", "PidsLimit")):
        value = getattr(args, flag.split()[-1].lstrip("-").replace("-", "_"))
        if value is not None:
            out[key] = _int(flag, value)
    if args.cpus is not None:
        try:
            out["NanoCpus"] = int(round(float(args.cpus) * 1e9))
        except ValueError:
            raise _bad("--cpus", args.cpus, "failed to parse as a rational number") from None
    for flag, key in (("--cpuset-cpus", "CpusetCpus"), ("--cpuset-mems", "CpusetMems")):
        value = getattr(args, flag.lstrip("-").replace("-", "_"))
        if value is not None:
            out[key] = value
    if args.memory is not None:
        out["Memory"] = _size("-m, --memory", args.memory)
    if args.memory_reservation is not None:
        out["MemoryReservation"] = _size("--memory-reservation", args.memory_reservation)
    if args.memory_swap is not None:
        out["MemorySwap"] = _size("--memory-swap", args.memory_swap, allow_unlimited=True)
    if args.kernel_memory is not None:
        out["KernelMemory"] = _size("--kernel-memory", args.kernel_memory)
    if args.restart is not None:
        from dockyard.cli.commands._runopts import restart
        try:
            out["RestartPolicy"] = restart(args.restart)
        except Exception:  # noqa: BLE001 - the run flag's error names `run`
            raise _bad("--restart", args.restart, "invalid restart policy format") from None
    return out


def run(args, client) -> int:
    import sys
    from dockyard.cli.commands._multi import each
    from dockyard.cli.main import CommandError
    req = body(args)
    if not req:
        raise CommandError("you must provide one or more flags when using this command", 1)

    def one(name: str):
        warnings = (client.post(f"/containers/{name}/update", json=req) or {}).get("Warnings")
        for w in warnings or []:
            print(f"WARNING: {w}", file=sys.stderr)
        return None
    return each(args.containers, one)
