"""dockyard top: display the running processes of a container."""
from __future__ import annotations

HELP = "Display the running processes of a container"


def configure(p) -> None:
    p.add_argument("container", metavar="CONTAINER")
    p.add_argument("ps_args", nargs="*", metavar="[ps OPTIONS]")


def run(args, client) -> int:
    from dockyard.cli.output import table
    params = {"ps_args": " ".join(args.ps_args)} if args.ps_args else None
    out = client.get(f"/containers/{args.container}/top", params)
    print(table(out["Processes"], out["Titles"]))
    return 0
