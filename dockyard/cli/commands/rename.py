"""dockyard rename: rename a container."""
from __future__ import annotations

HELP = "Rename a container"


def configure(p) -> None:
    p.add_argument("container", metavar="CONTAINER")
    p.add_argument("new_name", metavar="NEW_NAME")


def run(args, client) -> int:
    client.post(f"/containers/{args.container}/rename", {"name": args.new_name})
    return 0
