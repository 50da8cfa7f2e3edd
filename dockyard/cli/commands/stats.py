"""dockyard stats: a snapshot (--no-stream) or live stream of resource usage."""
from __future__ import annotations

HELP = "Display a live stream of container(s) resource usage statistics"
COLUMNS = ["CONTAINER ID", "NAME", "CPU %", "MEM USAGE / LIMIT", "MEM %", "NET I/O",
           "BLOCK I/O", "PIDS"]


def configure(p) -> None:
    p.add_argument("-a", "--all", action="store_true", help="Show all containers (default shows just running)")
    p.add_argument("--no-stream", action="store_true", help="Disable streaming stats and only pull the first result")
    p.add_argument("--no-trunc", action="store_true", help="Do not truncate output")
    p.add_argument("--format", help="Format output using a custom template")
    p.add_argument("containers", nargs="*", metavar="CONTAINER")


def row(s: dict) -> list[str]:
    mem = s["memory_stats"]
    usage, limit = mem.get("usage", 0), mem.get("limit", 1) or 1
    cpu = s["cpu_stats"]
    total = cpu["cpu_usage"]["total_usage"]
    system = cpu.get("system_cpu_usage") or 1
    pct = 100.0 * total / system * cpu.get("online_cpus", 1) if system else 0.0
    return [s["id"][:12], s["name"].lstrip("/"), f"{pct:.2f}%",
            f"{_bin(usage)} / {_bin(limit)}", f"{100.0 * usage / limit:.2f}%",
            "0B / 0B", "0B / 0B", str(s["pids_stats"].get("current", 0))]


def _bin(n: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if n < 1024 or unit == "TiB":
            return f"{n:.4g}{unit}"
        n /= 1024.0
    return f"{n}B"


def run(args, client) -> int:
    import time
    from dockyard.cli.output import table
    names = args.containers or [c["Id"] for c in client.get("/containers/json",
                                                               {"all": int(args.all)})]
    while True:
        rows = [row(client.get(f"/containers/{n}/stats", {"stream": 0})) for n in names]
        if not args.no_stream:
            print("\033[2J\033[H", end="")
        print(table(rows, COLUMNS))
        if args.no_stream:
            return 0
        time.sleep(1)
