"""dockyard attach: attach local standard input, output and error to a running container."""
from __future__ import annotations

HELP = "Attach local standard input, output, and error streams to a running container"


def configure(p) -> None:
    p.add_argument("--no-stdin", action="store_true", help="Do not attach STDIN")
    p.add_argument("--sig-proxy", default="true", help="Proxy all received signals to the process")
    p.add_argument("--detach-keys", help="Override the key sequence for detaching a container")
    p.add_argument("container", metavar="CONTAINER")


def run(args, client) -> int:
    from dockyard.cli.commands._attach import attach_and_wait, detach_keys_of
    from dockyard.cli.main import CommandError
    keys = detach_keys_of(args)
    info = client.get(f"/containers/{args.container}/json")
    if not info["State"]["Running"]:
        raise CommandError("You cannot attach to a stopped container, start it first", 1)
    if info["State"]["Paused"]:
        raise CommandError("You cannot attach to a paused container, unpause it first", 1)
    cid, tty = info["Id"], info["Config"]["Tty"]
    stdin = not args.no_stdin and info["Config"]["OpenStdin"]
    from dockyard.cli.commands._attach import Detached, check_tty
    check_tty(tty, stdin)
    try:
        return attach_and_wait(client, cid, tty, stdin, detach_keys=keys,
                               detach_spec=args.detach_keys)
    except Detached as e:
        raise CommandError(str(e), 1) from None
