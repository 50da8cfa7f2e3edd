"""dockyard push: upload an image to a registry, with per-layer progress."""
from __future__ import annotations

HELP = "Upload an image to a registry"


def configure(p) -> None:
    p.add_argument("name", metavar="NAME[:TAG]")
    p.add_argument("-a", "--all-tags", action="store_true",
                   help="Push all tags of an image to the repository")
    p.add_argument("-q", "--quiet", action="store_true", help="Suppress verbose output")


def run(args, client) -> int:
    from urllib.parse import quote

    from dockyard.cli.main import CommandError
    from dockyard.cli.progress import StreamError, render
    from dockyard.oci import reference
    from dockyard.registry import config
    ref = reference.parse(args.name, default_tag=not args.all_tags)
    if ref.digest:
        raise CommandError(f"cannot push a digest reference: {args.name}", 1)
    if args.all_tags and ref.tag:
        raise CommandError("tag can't be used with --all-tags/-a", 1)
    headers = {"X-Registry-Auth": config.encode_auth_header(config.get_credentials(ref.domain))}
    path = f"/images/{quote(ref.name, safe='/:')}/push"
    try:  # no tag: the daemon pushes every local tag of the repository
        render(client.stream("POST", path, {"tag": ref.tag or None}, headers=headers),
               quiet=args.quiet)
    except StreamError as e:
        raise CommandError(str(e), 1) from None
    if args.quiet:
        print(str(ref))
    return 0
