"""dockyard save: save images to a tar archive (docker-archive by default, or oci-archive)."""
from __future__ import annotations

HELP = "Save one or more images to a tar archive (streamed to STDOUT by default)"


def configure(p) -> None:
    p.add_argument("-o", "--output", help="Write to a file, instead of STDOUT")
    p.add_argument("--format", default="docker-archive", choices=["docker-archive", "oci-archive"],
                   help="Archive format (default docker-archive)")
    p.add_argument("images", nargs="+", metavar="IMAGE")


def _copy(resp, out) -> None:
    from dockyard.cli.main import CommandError
    from dockyard.client.transport import ProtocolError
    try:
        while chunk := resp.read(1 << 20):
            out.write(chunk)
    except ProtocolError:
        raise CommandError("save failed: the daemon stopped sending the archive "
                           "(see its log)") from None


def run(args, client) -> int:
    import os
    import sys
    from dockyard.cli.main import CommandError
    if not args.output and sys.stdout.isatty():
        raise CommandError("cowardly refusing to save to a terminal. Use the -o flag or redirect")
    resp = client.raw("GET", "/images/get", {"names": args.images, "format": args.format})
    if not args.output:
        _copy(resp, sys.stdout.buffer)
        return 0
    tmp = f"{args.output}.{os.getpid()}.tmp"
    try:
        with open(tmp, "wb") as f:
            _copy(resp, f)
        os.replace(tmp, args.output)  # a failed save never leaves a half-written file
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return 0
