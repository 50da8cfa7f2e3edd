"""dockyard volume: create, ls, inspect, rm, prune."""
from __future__ import annotations

HELP = "Manage volumes"


def configure(p) -> None:
    subs = p.add_subparsers(dest="sub", metavar="COMMAND", required=True)
    c = subs.add_parser("create", help="Create a volume")
    c.add_argument("name", nargs="?")
    c.add_argument("-d", "--driver", default="local")
    c.add_argument("-o", "--opt", action="append", default=[])
    c.add_argument("--label", action="append", default=[])
    ls = subs.add_parser("ls", aliases=["list"], help="List volumes")
    ls.add_argument("-q", "--quiet", action="store_true")
    ls.add_argument("-f", "--filter", action="append", default=[])
    ls.add_argument("--format")
    i = subs.add_parser("inspect", help="Display detailed information on one or more volumes")
    i.add_argument("names", nargs="+")
    i.add_argument("-f", "--format")
    r = subs.add_parser("rm", aliases=["remove"], help="Remove one or more volumes")
    r.add_argument("names", nargs="+")
    r.add_argument("-f", "--force", action="store_true")
    pr = subs.add_parser("prune", help="Remove unused local volumes")
    pr.add_argument("-a", "--all", action="store_true")
    pr.add_argument("-f", "--force", action="store_true")
    pr.add_argument("--filter", action="append", default=[])


def _filters(items: list[str]) -> dict:
    out: dict = {}
    for f in items:
        k, _, v = f.partition("=")
        out.setdefault(k, []).append(v)
    return out


def run(args, client) -> int:
    return {"create": _create, "ls": _ls, "list": _ls, "inspect": _inspect, "rm": _rm,
            "remove": _rm, "prune": _prune}[args.sub](args, client)


def _create(args, client) -> int:
    body = {"Name": args.name or "", "Driver": args.driver,
            "DriverOpts": dict((o.split("=", 1) + [""])[:2] for o in args.opt),
            "Labels": dict((o.split("=", 1) + [""])[:2] for o in args.label)}
    print(client.post("/volumes/create", json=body)["Name"])
    return 0


def _ls(args, client) -> int:
    from dockyard import jsonlite
    from dockyard.cli.output import format_rows, table
    f = _filters(args.filter)
    vols = client.get("/volumes", {"filters": jsonlite.dumps(f)} if f else None)["Volumes"] or []
    if args.quiet:
        print("\n".join(v["Name"] for v in vols))
    elif args.format:
        print(format_rows(args.format, vols, {"Name": "VOLUME NAME", "Driver": "DRIVER"}))
    else:
        print(table([[v["Driver"], v["Name"]] for v in vols], ["DRIVER", "VOLUME NAME"], gap=5))
    return 0


def _inspect(args, client) -> int:
    from dockyard import jsonlite
    import sys
    from dockyard import errors
    out, failed = [], 0
    for n in args.names:
        try:
            out.append(client.get(f"/volumes/{n}"))
        except errors.NotFound as e:
            print(f"Error response from daemon: {e}", file=sys.stderr)
            failed = 1
    if args.format:
        from dockyard.cli.output import format_template
        for v in out:
            print(format_template(args.format, v))
    else:
        print(jsonlite.dumps(out, indent=4))
    return failed


def _rm(args, client) -> int:
    from dockyard.cli.commands._multi import each
    return each(args.names, lambda n: client.delete(f"/volumes/{n}",
                                                     {"force": int(args.force)}) and None)


def _prune(args, client) -> int:
    from dockyard import jsonlite
    import sys
    from dockyard.cli.output import human_size
    if not args.force:
        sys.stdout.write("WARNING! This will remove anonymous local volumes not used by at "
                         "least one container.\nAre you sure you want to continue? [y/N] ")
        sys.stdout.flush()
        if sys.stdin.readline().strip().lower() not in ("y", "yes"):
            return 0
    f = _filters(args.filter)
    if args.all:
        f["all"] = ["true"]
    out = client.post("/volumes/prune", {"filters": jsonlite.dumps(f)} if f else None)
    if out.get("VolumesDeleted"):
        print("Deleted Volumes:")
        print("\n".join(out["VolumesDeleted"]))
        print()
    print(f"Total reclaimed space: {human_size(out.get('SpaceReclaimed', 0))}")
    return 0
