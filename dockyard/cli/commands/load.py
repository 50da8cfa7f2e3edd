"""dockyard load: load images from a tar archive (docker-archive or OCI layout) or stdin."""
from __future__ import annotations

HELP = "Load an image from a tar archive or STDIN"


def configure(p) -> None:
    p.add_argument("-i", "--input", help="Read from tar archive file, instead of STDIN")
    p.add_argument("-q", "--quiet", action="store_true", help="Suppress the load output")


def run(args, client) -> int:
    import sys
    from dockyard import errors
    from dockyard.cli.main import CommandError
    if args.input:
        try:
            stream = open(args.input, "rb")
        except OSError as e:
            raise CommandError(f"open {args.input}: {e.strerror.lower()}") from None
    else:
        if sys.stdin.isatty():
            raise CommandError("requested load from stdin, but stdin is empty")
        stream = sys.stdin.buffer
    try:
        from dockyard.cli.commands.import_ import body_headers, chunks
        for msg in client.stream("POST", "/images/load", {"quiet": 1 if args.quiet else 0},
                                 body=chunks(stream), headers=body_headers(stream)):
            if "error" in msg:
                raise errors.DockyardError(msg["error"])
            if not args.quiet or msg.get("stream", "").startswith("Loaded image"):
                sys.stdout.write(msg.get("stream", ""))
    finally:
        if args.input:
            stream.close()
    return 0
