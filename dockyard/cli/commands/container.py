"""dockyard container: the container verbs as sub-commands (ls, run, rm, prune, …)."""
from __future__ import annotations

import importlib

HELP = "Manage containers"
SUB = {"ls": "ps", "ps": "ps", "list": "ps", "run": "run", "create": "create", "start": "start",
       "stop": "stop", "kill": "kill", "rm": "rm", "remove": "rm", "restart": "restart",
       "logs": "logs", "exec": "exec_", "wait": "wait", "attach": "attach",
       "inspect": "container_inspect", "top": "top", "stats": "stats", "cp": "cp",
       "commit": "commit", "export": "export", "diff": "diff", "rename": "rename",
       "pause": "pause", "unpause": "unpause", "port": "port", "update": "update",
       "prune": None}


def configure(p) -> None:
    subs = p.add_subparsers(dest="sub", metavar="COMMAND", required=True)
    for name, mod in SUB.items():
        if mod is None:
            sp = subs.add_parser(name, help="Remove all stopped containers")
            sp.add_argument("-f", "--force", action="store_true", help="Do not prompt for confirmation")
            sp.add_argument("--filter", action="append", default=[], help="Provide filter values")
            continue
        if mod == "container_inspect":
            sp = subs.add_parser(name, help="Display detailed information on one or more containers")
            importlib.import_module("dockyard.cli.commands.inspect").configure(sp)
            continue
        m = importlib.import_module(f"dockyard.cli.commands.{mod}")
        m.configure(subs.add_parser(name, help=m.HELP))


def run(args, client) -> int:
    mod = SUB[args.sub]
    if mod is None:
        return prune(args, client)
    if mod == "container_inspect":
        args.type = "container"
        mod = "inspect"
    return importlib.import_module(f"dockyard.cli.commands.{mod}").run(args, client)


def prune(args, client) -> int:
    from dockyard import jsonlite
    import sys
    from dockyard.cli.output import human_size
    if not args.force:
        sys.stdout.write("WARNING! This will remove all stopped containers.\n"
                         "Are you sure you want to continue? [y/N] ")
        sys.stdout.flush()
        if sys.stdin.readline().strip().lower() not in ("y", "yes"):
            return 0
    filters: dict = {}
    for f in args.filter:
        k, _, v = f.partition("=")
        filters.setdefault(k, []).append(v)
    out = client.post("/containers/prune", {"filters": jsonlite.dumps(filters)} if filters else None)
    if out.get("ContainersDeleted"):
        print("Deleted Containers:")
        print("\n".join(out["ContainersDeleted"]))
        print()
    print(f"Total reclaimed space: {human_size(out.get('SpaceReclaimed', 0))}")
    return 0
