"""dockyard export: export a container's filesystem as a tar archive."""
from __future__ import annotations

HELP = "Export a container's filesystem as a tar archive"


def configure(p) -> None:
    p.add_argument("-o", "--output", help="Write to a file, instead of STDOUT")
    p.add_argument("container", metavar="CONTAINER")


def run(args, client) -> int:
    import sys
    from dockyard.cli.main import CommandError
    if not args.output and sys.stdout.isatty():
        raise CommandError("cowardly refusing to save to a terminal. Use the -o flag or redirect", 1)
    resp = client.raw("GET", f"/containers/{args.container}/export")
    if resp.status >= 400:
        from dockyard import jsonlite
        raise CommandError("Error response from daemon: " +
                           jsonlite.loads(resp.read() or b"{}").get("message", resp.reason), 1)
    out = open(args.output, "wb") if args.output else sys.stdout.buffer
    try:
        while chunk := resp.read(1 << 16):
            out.write(chunk)
    finally:
        if args.output:
            out.close()
    return 0
