"""dockyard diff: inspect changes to files or directories on a container's filesystem."""
from __future__ import annotations

HELP = "Inspect changes to files or directories on a container's filesystem"


def configure(p) -> None:
    p.add_argument("container", metavar="CONTAINER")


def run(args, client) -> int:
    for c in client.get(f"/containers/{args.container}/changes") or []:
        print(f"{'CAD'[c['Kind']]} {c['Path']}")
    return 0
