"""dockyard unpause: resume all processes within one or more containers (freezer cgroup)."""
from __future__ import annotations

HELP = "Unpause all processes within one or more containers"


def configure(p) -> None:
    p.add_argument("containers", nargs="+", metavar="CONTAINER")


def run(args, client) -> int:
    from dockyard.cli.commands._multi import each
    return each(args.containers, lambda c: client.post(f"/containers/{c}/unpause") and None)
