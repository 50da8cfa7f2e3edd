"""dockyard start: start one or more stopped containers (-a attaches to one)."""
from __future__ import annotations

HELP = "Start one or more stopped containers"


def configure(p) -> None:
    p.add_argument("-a", "--attach", action="store_true", help="Attach STDOUT/STDERR and forward signals")
    p.add_argument("-i", "--interactive", action="store_true", help="Attach container's STDIN")
    p.add_argument("--detach-keys", help="Override the key sequence for detaching a container")
    p.add_argument("containers", nargs="+", metavar="CONTAINER")


def run(args, client) -> int:
    from dockyard.cli.commands._multi import each
    if not (args.attach or args.interactive):
        return each(args.containers, lambda c: client.post(f"/containers/{c}/start") and None)
    if len(args.containers) > 1:
        from dockyard.cli.main import CommandError
        raise CommandError("you cannot start and attach multiple containers at once", 1)
    from dockyard.cli.commands._attach import detach_keys_of
    return _attached(client, args.containers[0], args.interactive, detach_keys_of(args),
                     getattr(args, "detach_keys", None))


def _attached(client, name: str, stdin: bool, keys: bytes, spec: str | None = None) -> int:
    from dockyard.cli.commands._attach import attach_and_wait
    info = client.get(f"/containers/{name}/json")
    cid, tty = info["Id"], info["Config"]["Tty"]
    stdin = stdin and info["Config"]["OpenStdin"]
    from dockyard.cli.commands._attach import Detached, check_tty
    check_tty(tty, stdin)
    try:
        return attach_and_wait(client, cid, tty, stdin, start=True, detach_keys=keys,
                               detach_spec=spec)
    except Detached:
        return 0
