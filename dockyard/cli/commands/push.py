"""dockyard push: upload an image to a registry, with per-layer progress."""
from __future__ import annotations

HELP = "Upload an image to a registry"


def configure(p) -> None:
    p.add_argument("name", metavar="NAME[:TAG]")
    p.add_argument("-q", "--quiet", action="store_true", help="Suppress verbose output")


def run(args, client) -> int:
    from urllib.parse import quote

    from dockyard.cli.main import CommandError
    from dockyard.cli.progress import StreamError, render
    from dockyard.oci import reference
    from dockyard.registry import config
    ref = reference.parse(args.name)
    if ref.digest:
        raise CommandError(f"cannot push a digest reference: {args.name}", 1)
    headers = {"X-Registry-Auth": config.encode_auth_header(config.get_credentials(ref.domain))}
    path = f"/images/{quote(ref.name, safe='/:')}/push"
    try:
        render(client.stream("POST", path, {"tag": ref.tag}, headers=headers), quiet=args.quiet)
    except StreamError as e:
        raise CommandError(str(e), 1) from None
    if args.quiet:
        print(str(ref))
    return 0
