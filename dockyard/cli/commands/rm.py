"""dockyard rm: remove one or more containers."""
from __future__ import annotations

HELP = "Remove one or more containers"


def configure(p) -> None:
    p.add_argument("-f", "--force", action="store_true",
                   help="Force the removal of a running container (uses SIGKILL)")
    p.add_argument("-v", "--volumes", action="store_true",
                   help="Remove anonymous volumes associated with the container")
    p.add_argument("-l", "--link", action="store_true", help="Remove the specified link")
    p.add_argument("containers", nargs="+", metavar="CONTAINER")


def run(args, client) -> int:
    from dockyard.cli.commands._multi import each
    params = {"force": int(args.force), "v": int(args.volumes)}
    return each(args.containers, lambda c: client.delete(f"/containers/{c}", params) and None)
