"""dockyard tag: create a tag TARGET_IMAGE that refers to SOURCE_IMAGE."""
from __future__ import annotations

HELP = "Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE"


def configure(p) -> None:
    p.add_argument("source", metavar="SOURCE_IMAGE[:TAG]")
    p.add_argument("target", metavar="TARGET_IMAGE[:TAG]")


def run(args, client) -> int:
    from dockyard.oci import reference
    target = reference.parse(args.target)  # a bad name fails here, before any request
    if target.digest:
        from dockyard.cli.main import CommandError
        raise CommandError(f"Error parsing reference: {args.target!r}: cannot tag a digest reference")
    client.post(f"/images/{args.source}/tag", {"repo": target.familiar_name, "tag": target.tag})
    return 0
