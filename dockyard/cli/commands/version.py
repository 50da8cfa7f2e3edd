"""dockyard version: client and server versions."""
from __future__ import annotations

import sys

HELP = "Show the dockyard version information"


def configure(p) -> None:
    p.add_argument("-f", "--format", help="Format output using a Go-like template")


def run(args, client) -> int:
    from dockyard import __version__
    from dockyard.client import API_VERSION
    from dockyard.cli.output import format_template
    server = client.get("/version")
    if args.format:
        print(format_template(args.format, {"Client": {"Version": __version__,
                                                       "ApiVersion": API_VERSION},
                                            "Server": server}))
        return 0
    print(f"Client:\n Version:           {__version__}\n API version:       {API_VERSION}\n"
          f" Python version:    {sys.version.split()[0]}\n OS/Arch:           linux/{server.get('Arch')}\n")
    print(f"Server: dockyard\n Engine:\n  Version:          {server['Version']}\n"
          f"  API version:      {server['ApiVersion']} (minimum version {server['MinAPIVersion']})\n"
          f"  OS/Arch:          {server['Os']}/{server['Arch']}\n"
          f"  Kernel version:   {server['KernelVersion']}")
    return 0
