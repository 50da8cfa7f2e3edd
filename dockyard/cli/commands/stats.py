"""dockyard stats: a snapshot (--no-stream) or live stream of resource usage.

The numbers are computed as docker's CLI computes them (docker/cli
cli/command/container/stats_helpers.go and formatter_stats.go): CPU % from the
difference between a sample and its ``precpu_stats``, memory without the inactive file
cache, NET I/O and BLOCK I/O summed over interfaces and devices in base-1000 units with
three significant digits, memory in binary units. One request per container, in
parallel (``_thread``: no ``threading`` import); streaming keeps one API stream per
container, as docker does, and redraws every 0.5 s.
"""
from __future__ import annotations

HELP = "Display a live stream of container(s) resource usage statistics"
DEFAULT_FORMAT = ("table {{.ID}}\t{{.Name}}\t{{.CPUPerc}}\t{{.MemUsage}}\t{{.MemPerc}}\t"
                  "{{.NetIO}}\t{{.BlockIO}}\t{{.PIDs}}")
HEADERS = {"Container": "CONTAINER", "ID": "CONTAINER ID", "Name": "NAME",
           "CPUPerc": "CPU %", "MemUsage": "MEM USAGE / LIMIT", "MemPerc": "MEM %",
           "NetIO": "NET I/O", "BlockIO": "BLOCK I/O", "PIDs": "PIDS"}
_BINARY = ("B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB", "ZiB", "YiB")
_DECIMAL = ("B", "kB", "MB", "GB", "TB", "PB", "EB", "ZB", "YB")


def configure(p) -> None:
    p.add_argument("-a", "--all", action="store_true", help="Show all containers (default shows just running)")
    p.add_argument("--no-stream", action="store_true", help="Disable streaming stats and only pull the first result")
    p.add_argument("--no-trunc", action="store_true", help="Do not truncate output")
    p.add_argument("--format", help="Format output using a custom template")
    p.add_argument("containers", nargs="*", metavar="CONTAINER")


# -- docker's computations (pure) -----------------------------------------------------

def cpu_percent(s: dict) -> float:
    """calculateCPUPercentUnix: container CPU delta over host CPU delta × online CPUs."""
    cpu, pre = s.get("cpu_stats") or {}, s.get("precpu_stats") or {}
    usage = cpu.get("cpu_usage") or {}
    cpu_delta = float(usage.get("total_usage") or 0) - float(
        (pre.get("cpu_usage") or {}).get("total_usage") or 0)
    system_delta = float(cpu.get("system_cpu_usage") or 0) - float(
        pre.get("system_cpu_usage") or 0)
    online = float(cpu.get("online_cpus") or 0) or float(len(usage.get("percpu_usage") or []))
    if system_delta > 0.0 and cpu_delta > 0.0:
        return cpu_delta / system_delta * online * 100.0
    return 0.0


def mem_usage_no_cache(mem: dict) -> float:
    """calculateMemUsageUnixNoCache: usage minus total_inactive_file (cgroup v1) or
    inactive_file (v2) when that is smaller."""
    usage = mem.get("usage") or 0
    stats = mem.get("stats") or {}
    if "total_inactive_file" in stats and stats["total_inactive_file"] < usage:
        return float(usage - stats["total_inactive_file"])
    inactive = stats.get("inactive_file") or 0
    if inactive < usage:
        return float(usage - inactive)
    return float(usage)


def mem_percent(limit: float, used: float) -> float:
    return used / limit * 100.0 if limit else 0.0


def block_io(blkio: dict | None) -> tuple[int, int]:
    """calculateBlockIO: read and write bytes over io_service_bytes_recursive, by the
    op's first letter (v1 prints "Read", v2 "read")."""
    read = write = 0
    for e in (blkio or {}).get("io_service_bytes_recursive") or []:
        op = e.get("op") or ""
        if op[:1] in ("r", "R"):
            read += e.get("value") or 0
        elif op[:1] in ("w", "W"):
            write += e.get("value") or 0
    return read, write


def network(nets: dict | None) -> tuple[int, int]:
    """calculateNetwork: rx and tx bytes summed over the interfaces."""
    rx = tx = 0
    for v in (nets or {}).values():
        rx += v.get("rx_bytes") or 0
        tx += v.get("tx_bytes") or 0
    return rx, tx


def _scaled(size: float, base: float, units) -> tuple[float, str]:
    i = 0
    while size >= base and i < len(units) - 1:
        size /= base
        i += 1
    return size, units[i]


def bytes_size(n: float) -> str:
    """go-units BytesSize: ``%.4g`` in base 1024 (``2.254MiB``)."""
    size, unit = _scaled(float(n), 1024.0, _BINARY)
    return f"{size:.4g}{unit}"


def human_size3(n: float) -> str:
    """go-units HumanSizeWithPrecision(n, 3): base 1000 (``1.2kB``, ``648B``)."""
    size, unit = _scaled(float(n), 1000.0, _DECIMAL)
    return f"{size:.3g}{unit}"


def entry(container: str, s: dict) -> dict:
    """docker's StatsEntry numbers for one sample."""
    mem = s.get("memory_stats") or {}
    used = mem_usage_no_cache(mem)
    limit = float(mem.get("limit") or 0)
    rx, tx = network(s.get("networks"))
    blk_r, blk_w = block_io(s.get("blkio_stats"))
    return {"container": container, "id": s.get("id") or "", "name": s.get("name") or "",
            "cpu": cpu_percent(s), "mem": used, "limit": limit,
            "mem_pct": mem_percent(limit, used), "rx": rx, "tx": tx, "blk_r": blk_r,
            "blk_w": blk_w, "pids": (s.get("pids_stats") or {}).get("current") or 0}


def view(e: dict, no_trunc: bool = False) -> dict:
    """The --format fields, rendered as docker's statsContext renders them ("--" for a
    container whose stats failed)."""
    name = e["name"]
    ident = e["id"] if no_trunc else e["id"][:12]
    if e.get("invalid"):
        return {"BlockIO": "--", "CPUPerc": "--", "Container": e["container"], "ID": ident,
                "MemPerc": "--", "MemUsage": "-- / --", "Name": "--", "NetIO": "--",
                "PIDs": "--"}
    return {"BlockIO": f"{human_size3(e['blk_r'])} / {human_size3(e['blk_w'])}",
            "CPUPerc": f"{e['cpu']:.2f}%", "Container": e["container"], "ID": ident,
            "MemPerc": f"{e['mem_pct']:.2f}%",
            "MemUsage": f"{bytes_size(e['mem'])} / {bytes_size(e['limit'])}",
            "Name": name[1:] if len(name) > 1 else "--",
            "NetIO": f"{human_size3(e['rx'])} / {human_size3(e['tx'])}",
            "PIDs": str(e["pids"])}


def render(fmt: str, entries: list[dict], no_trunc: bool = False) -> str:
    from dockyard.cli.output import format_rows
    return format_rows(fmt, [view(e, no_trunc) for e in entries], HEADERS)


# -- the command ------------------------------------------------------------------------

def _format(fmt: str | None) -> str:
    if not fmt or fmt == "table":
        return DEFAULT_FORMAT
    if fmt == "json":
        return "{{json .}}"
    return fmt


def _listing(client, all_: bool) -> list[str]:
    return [c["Id"] for c in client.get("/containers/json", {"all": int(all_)}) or []]


def _parallel(fn, items: list) -> list:
    """``[fn(x) for x in items]``, one thread per item beyond the first; an exception is
    raised again here (the first one in item order)."""
    if len(items) < 2:
        return [fn(x) for x in items]
    import _thread
    results: list = [None] * len(items)
    errors: list = [None] * len(items)
    locks = []

    def work(i, lock):
        try:
            results[i] = fn(items[i])
        except BaseException as e:  # handed to the caller
            errors[i] = e
        finally:
            lock.release()
    for i in range(len(items)):
        lock = _thread.allocate_lock()
        lock.acquire()
        locks.append(lock)
        _thread.start_new_thread(work, (i, lock))
    for lock in locks:
        lock.acquire()
    for e in errors:
        if e is not None:
            raise e
    return results


def run(args, client) -> int:
    fmt = _format(args.format)
    listed = not args.containers
    targets = _listing(client, args.all) if listed else list(args.containers)
    if args.no_stream:
        host = client.host

        def one(target):
            from dockyard.client import Client
            c = client if len(targets) < 2 else Client(host)
            try:
                return c.get(f"/containers/{target}/stats", {"stream": 0})
            finally:
                if c is not client:
                    c.close()
        samples = _parallel(one, targets)
        out = render(fmt, [entry(t[:12] if listed else t, s)
                           for t, s in zip(targets, samples)], args.no_trunc)
        if out:
            print(out)
        return 0
    return _stream(args, client, fmt, listed, targets)


def _stream(args, client, fmt: str, listed: bool, targets: list[str]) -> int:
    """One API stream per container (a thread each), the table redrawn every 0.5 s.
    Named containers: an error before the first sample is the command's error (as
    docker's), a stream that ends later leaves a "--" row. Without names the listing is
    refreshed every 2 s: new containers join, ones no longer listed leave."""
    import _thread
    import time
    from dockyard.client import Client
    host = client.host
    latest: dict[str, dict] = {}
    errors: dict[str, BaseException | None] = {}
    order: list[str] = []
    owner: dict[str, object] = {}  # target → the token of the thread following it

    def follow(target: str, token: object) -> None:
        c = Client(host)
        try:
            for s in c.stream("GET", f"/containers/{target}/stats", {"stream": 1}):
                if owner.get(target) is not token:
                    return  # no longer listed (or followed by a newer thread)
                latest[target] = entry(target[:12] if listed else target, s)
        except BaseException as e:  # noqa: BLE001 - reported by the drawing loop
            errors.setdefault(target, e)
        finally:
            c.close()
            if owner.get(target) is token:
                if listed:
                    drop(target)
                elif target in latest:
                    latest[target] = dict(latest[target], invalid=True)
            errors.setdefault(target, None)  # ended: the first-sample wait is over

    def add(target: str) -> None:
        token = owner[target] = object()
        order.append(target)
        _thread.start_new_thread(follow, (target, token))

    def drop(target: str) -> None:
        owner.pop(target, None)
        latest.pop(target, None)
        try:
            order.remove(target)
        except ValueError:  # another thread was first
            pass

    for t in targets:
        add(t)
    deadline = time.monotonic() + 30  # the first sample of each (docker's waitFirst)
    while any(t not in latest and t not in errors for t in list(order)):
        if time.monotonic() > deadline:
            break
        time.sleep(0.02)
    if not listed:
        for t in targets:
            if t not in latest and errors.get(t) is not None:
                raise errors[t]
    last_list = time.monotonic()
    while True:
        if listed and time.monotonic() - last_list >= 2:
            last_list = time.monotonic()
            now = _listing(client, args.all)
            for t in list(order):
                if t not in now:
                    drop(t)
            for t in now:
                if t not in order:
                    add(t)
        rows = [latest[t] for t in list(order) if t in latest]
        print("\033[2J\033[H" + render(fmt, rows, args.no_trunc), flush=True)
        time.sleep(0.5)
