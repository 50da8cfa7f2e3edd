"""dockyard kill: send a signal (default SIGKILL) to one or more running containers."""
from __future__ import annotations

HELP = "Kill one or more running containers"


def configure(p) -> None:
    p.add_argument("-s", "--signal", default=None, help="Signal to send to the container")
    p.add_argument("containers", nargs="+", metavar="CONTAINER")


def run(args, client) -> int:
    from dockyard.cli.commands._multi import each
    params = {"signal": args.signal} if args.signal else None
    return each(args.containers, lambda c: client.post(f"/containers/{c}/kill", params) and None)
