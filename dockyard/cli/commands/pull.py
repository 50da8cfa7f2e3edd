"""dockyard pull: download an image from a registry, with per-layer progress."""
from __future__ import annotations

HELP = "Download an image from a registry"


def configure(p) -> None:
    p.add_argument("name", metavar="NAME[:TAG|@DIGEST]")
    p.add_argument("-a", "--all-tags", action="store_true", help="Download all tagged images")
    p.add_argument("-q", "--quiet", action="store_true", help="Suppress verbose output")
    p.add_argument("--platform", default=None, help="Set platform (os/arch[/variant])")


def run(args, client) -> int:
    from dockyard.cli.main import CommandError
    from dockyard.cli.progress import StreamError, render
    from dockyard.oci import reference
    from dockyard.registry import config
    ref = reference.parse(args.name, default_tag=not args.all_tags)
    if args.all_tags and (ref.tag or ref.digest):
        raise CommandError("tag can't be used with --all-tags/-a", 1)
    if not args.all_tags and not args.quiet and ref.tag == "latest" and \
            not args.name.endswith(":latest"):
        print("Using default tag: latest")
    params = {"fromImage": ref.name, "tag": ref.digest or ref.tag, "platform": args.platform}
    auth = config.get_credentials(ref.domain)
    headers = {"X-Registry-Auth": config.encode_auth_header(auth)}
    try:
        render(client.stream("POST", "/images/create", params, headers=headers),
               quiet=args.quiet)
    except StreamError as e:
        raise CommandError(str(e), 1) from None
    print(str(ref) if not args.all_tags else ref.name)
    return 0
