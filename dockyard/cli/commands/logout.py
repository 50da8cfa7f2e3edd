"""dockyard logout: forget a registry's credentials in docker's config.json."""
from __future__ import annotations

HELP = "Log out from a registry"


def configure(p) -> None:
    p.add_argument("server", nargs="?", default=None, metavar="SERVER")


def run(args, client) -> int:
    from dockyard.registry import config
    key = config.config_key(args.server)
    if config.erase_credentials(args.server):
        print(f"Removing login credentials for {key}")
    else:
        print(f"Not logged in to {key}")
    return 0
