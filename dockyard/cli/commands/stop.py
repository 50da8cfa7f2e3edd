"""dockyard stop: stop one or more running containers (SIGTERM, then SIGKILL after -t)."""
from __future__ import annotations

HELP = "Stop one or more running containers"


def configure(p) -> None:
    p.add_argument("-t", "--time", "--timeout", type=int, default=None, dest="time",
                   help="Seconds to wait before killing the container")
    p.add_argument("-s", "--signal", help="Signal to send to the container")
    p.add_argument("containers", nargs="+", metavar="CONTAINER")


def run(args, client) -> int:
    from dockyard.cli.commands._multi import each
    params = {k: v for k, v in (("t", args.time), ("signal", args.signal)) if v is not None}
    return each(args.containers, lambda c: client.post(f"/containers/{c}/stop", params) and None)
