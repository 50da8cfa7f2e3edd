"""dockyard port: list port mappings or a specific mapping for the container."""
from __future__ import annotations

HELP = "List port mappings or a specific mapping for the container"


def configure(p) -> None:
    p.add_argument("container", metavar="CONTAINER")
    p.add_argument("port", nargs="?", metavar="PRIVATE_PORT[/PROTO]")


def run(args, client) -> int:
    from dockyard.cli.main import CommandError
    info = client.get(f"/containers/{args.container}/json")
    ports = (info.get("NetworkSettings") or {}).get("Ports") or {}
    want = None
    if args.port:
        want = args.port if "/" in args.port else args.port + "/tcp"
    lines = []
    for key, binds in sorted(ports.items()):
        if want and key != want:
            continue
        for b in binds or []:
            addr = f"{b.get('HostIp') or '0.0.0.0'}:{b['HostPort']}"
            lines.append(addr if want else f"{key} -> {addr}")
    if want and not lines:
        raise CommandError(f"Error: No public port '{want}' published for {args.container}", 1)
    if lines:
        print("\n".join(lines))
    return 0
