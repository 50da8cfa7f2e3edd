"""dockyard ps: list containers (docker's columns, filters and --format)."""
from __future__ import annotations

HELP = "List containers"
COLUMNS = ["CONTAINER ID", "IMAGE", "COMMAND", "CREATED", "STATUS", "PORTS", "NAMES"]


def configure(p) -> None:
    p.add_argument("-a", "--all", action="store_true", help="Show all containers (default shows just running)")
    p.add_argument("-q", "--quiet", action="store_true", help="Only display container IDs")
    p.add_argument("-n", "--last", type=int, default=-1, help="Show n last created containers")
    p.add_argument("-l", "--latest", action="store_true", help="Show the latest created container")
    p.add_argument("-f", "--filter", action="append", default=[], help="Filter output based on conditions provided")
    p.add_argument("--format", help="Format output using a custom template")
    p.add_argument("--no-trunc", action="store_true", help="Don't truncate output")
    p.add_argument("-s", "--size", action="store_true", help="Display total file sizes")


def run(args, client) -> int:
    filters: dict = {}
    for f in args.filter:
        k, _, v = f.partition("=")
        filters.setdefault(k, []).append(v)
    limit = 1 if args.latest else args.last
    params = {"all": int(args.all or limit > 0), "limit": limit if limit > 0 else None,
              "size": 1 if args.size else None}
    if filters:
        from dockyard import jsonlite
        params["filters"] = jsonlite.dumps(filters)
    rows = client.get("/containers/json", {k: v for k, v in params.items() if v is not None})
    if args.quiet:
        print("\n".join(r["Id"] if args.no_trunc else r["Id"][:12] for r in rows))
        return 0
    if args.format:
        from dockyard.cli.output import format_rows
        out = format_rows(args.format, [_view(r, args.no_trunc) for r in rows],
                          dict(zip(["ID", "Image", "Command", "CreatedAt", "RunningFor",
                                    "Status", "Ports", "Names", "State", "Size"],
                                   ["CONTAINER ID", "IMAGE", "COMMAND", "CREATED AT",
                                    "CREATED", "STATUS", "PORTS", "NAMES", "STATE",
                                    "SIZE"])))
        if out:
            print(out)
        return 0
    from dockyard.cli.output import table
    data = [[v["ID"], v["Image"], v["Command"], v["RunningFor"], v["Status"], v["Ports"],
             v["Names"]] + ([v["Size"]] if args.size else [])
            for v in (_view(r, args.no_trunc) for r in rows)]
    print(table(data, COLUMNS + (["SIZE"] if args.size else [])))
    return 0


def _view(r: dict, no_trunc: bool) -> dict:
    """The fields docker's --format knows, rendered as docker renders them."""
    import time
    from dockyard.cli.output import human_duration
    cmd = r["Command"]
    if not no_trunc and len(cmd) > 20:
        cmd = cmd[:19] + "…"
    image = r["Image"]
    if image.startswith("sha256:") and not no_trunc:
        image = image[7:19]
    return {"ID": r["Id"] if no_trunc else r["Id"][:12], "Image": image,
            "Command": f'"{cmd}"', "CreatedAt": time.strftime(
                "%Y-%m-%d %H:%M:%S +0000 UTC", time.gmtime(r["Created"])),
            "RunningFor": human_duration(time.time() - r["Created"]) + " ago",
            "Status": r["Status"], "Ports": format_ports(r.get("Ports") or []),
            "Names": ",".join(n.lstrip("/") for n in r["Names"]), "State": r["State"],
            "Labels": ",".join(f"{k}={v}" for k, v in (r.get("Labels") or {}).items()),
            "Mounts": ",".join(m.get("Name") or m.get("Source", "") for m in r.get("Mounts") or []),
            "Networks": ",".join((r.get("NetworkSettings") or {}).get("Networks") or {}),
            "Size": _size(r)}


def _size(r: dict) -> str:
    """docker's SIZE column: ``12.3kB (virtual 1.98MB)``; empty without ``-s``."""
    if "SizeRw" not in r:
        return ""
    from dockyard.units import human_size
    return (f"{human_size(r.get('SizeRw') or 0, 3)} "
            f"(virtual {human_size(r.get('SizeRootFs') or 0, 3)})")


def format_ports(ports: list[dict]) -> str:
    out = []
    for p in sorted(ports, key=lambda p: (p.get("PrivatePort", 0), p.get("IP", ""))):
        if p.get("PublicPort"):
            ip = p.get("IP") or "0.0.0.0"
            host = f"[{ip}]" if ":" in ip else ip
            out.append(f"{host}:{p['PublicPort']}->{p['PrivatePort']}/{p['Type']}")
        else:
            out.append(f"{p['PrivatePort']}/{p['Type']}")
    return ", ".join(out)
