"""dockyard inspect: low-level information on containers, images, volumes, networks."""
from __future__ import annotations

HELP = "Return low-level information on Docker objects"
KINDS = {"container": "/containers/{}/json", "image": "/images/{}/json",
         "volume": "/volumes/{}", "network": "/networks/{}"}


def configure(p) -> None:
    p.add_argument("-f", "--format", help="Format output using a custom template")
    p.add_argument("-s", "--size", action="store_true", help="Display total file sizes if the type is container")
    p.add_argument("--type", choices=sorted(KINDS), help="Only inspect objects of the given type")
    p.add_argument("names", nargs="+", metavar="NAME|ID")


def find(client, name: str, kind: str | None, size: bool = False):
    from dockyard import errors
    for k in ([kind] if kind else list(KINDS)):
        try:
            return client.get(KINDS[k].format(name), {"size": 1} if size and k == "container" else None)
        except errors.NotFound:
            continue
    raise errors.NotFound(f"No such {kind or 'object'}: {name}")


def run(args, client) -> int:
    import sys
    from dockyard import errors
    out, failed = [], 0
    for n in args.names:
        try:
            out.append(find(client, n, args.type, args.size))
        except errors.NotFound as e:
            print(f"Error: {e}", file=sys.stderr)
            failed = 1
    if args.format:
        from dockyard.cli.output import format_template
        for obj in out:
            print(format_template(args.format, obj))
    else:
        from dockyard import jsonlite
        print(jsonlite.dumps(out, indent=4))
    return failed
