"""dockyard build: send a context to ``POST /build`` and print the classic output."""
from __future__ import annotations

import sys

HELP = "Build an image from a Dockerfile"


def configure(p) -> None:
    p.add_argument("path", metavar="PATH | -", help="Context directory, or - for a tar (or Dockerfile) on stdin")
    p.add_argument("-t", "--tag", action="append", default=[], help="Name and optionally a tag (name:tag)")
    p.add_argument("-f", "--file", help="Name of the Dockerfile (default: PATH/Dockerfile)")
    p.add_argument("--build-arg", action="append", default=[], metavar="KEY=VALUE", help="Set build-time variables")
    p.add_argument("--label", action="append", default=[], metavar="KEY=VALUE", help="Set metadata for an image")
    p.add_argument("--no-cache", action="store_true", help="Do not use cache when building the image")
    p.add_argument("-q", "--quiet", action="store_true", help="Suppress the build output and print image ID on success")
    p.add_argument("--iidfile", help="Write the image ID to the file")
    p.add_argument("--target", help="Set the target build stage to build")
    p.add_argument("--pull", action="store_true", help="Always attempt to pull a newer version of the image")
    p.add_argument("--network", help="Networking mode for the RUN instructions during build")
    p.add_argument("--rm", default=True, action="store_true", help="Remove intermediate containers (default true)")
    p.add_argument("--force-rm", action="store_true", help="Always remove intermediate containers")
    p.add_argument("--explain-cache", action="store_true",
                   help="For each step that misses the cache, print which input changed")


def _pairs(items: list[str], what: str, allow_bare: bool) -> dict:
    import os
    out: dict = {}
    for item in items:
        key, eq, value = item.partition("=")
        if not key:
            raise ValueError(f"invalid {what} {item!r}: want KEY=VALUE")
        if eq:
            out[key] = value
        elif allow_bare:  # --build-arg KEY takes KEY from the environment, as docker does
            out[key] = os.environ.get(key)
        else:
            out[key] = ""
    return out


def _context(args):
    """(body: bytes or an iterator of chunks, Dockerfile name in the context)."""
    from dockyard.build import tarball
    if args.path == "-":
        data = sys.stdin.buffer.read()
        if tarball.looks_like_tar(data):
            return data, args.file or "Dockerfile"
        return tarball.dockerfile_only_tar(data), "Dockerfile"
    import os
    if not os.path.isdir(args.path):
        raise FileNotFoundError(f"unable to prepare context: path {args.path!r} not found")
    return tarball.context_stream(args.path, args.file)


def run(args, client) -> int:
    from dockyard import jsonlite
    from dockyard.cli.main import CommandError
    try:
        body, dockerfile = _context(args)
        buildargs = _pairs(args.build_arg, "--build-arg", True)
        labels = _pairs(args.label, "--label", False)
    except (OSError, ValueError) as e:
        raise CommandError(str(e), 1) from None
    params = {"t": args.tag or None, "dockerfile": dockerfile, "q": "1" if args.quiet else None,
              "nocache": "1" if args.no_cache else None, "target": args.target,
              "buildargs": jsonlite.dumps(buildargs) if buildargs else None,
              "labels": jsonlite.dumps(labels) if labels else None, "pull": "1" if args.pull else None,
              "networkmode": args.network, "forcerm": "1" if args.force_rm else None,
              "explaincache": "1" if args.explain_cache else None}
    headers = {"Content-Type": "application/x-tar"}
    try:
        return _render(client.stream("POST", "/build", params, body=body, headers=headers), args)
    except OSError as e:  # the context is read while it is being sent
        if isinstance(e, ConnectionError):
            raise
        raise CommandError(f"error reading the build context: {e.filename}: {e.strerror}", 1) from None


def _render(messages, args) -> int:
    image_id = ""
    out = sys.stdout
    for msg in messages:
        if "error" in msg or "errorDetail" in msg:
            detail = msg.get("errorDetail") or {}
            print(detail.get("message") or msg.get("error"), file=sys.stderr)
            return detail.get("code") or 1
        if "aux" in msg:
            image_id = (msg["aux"] or {}).get("ID", image_id)
        elif "stream" in msg:
            out.write(msg["stream"])
            out.flush()
        elif "status" in msg:
            out.write(msg["status"] + (f": {msg['id']}" if msg.get("id") else "") + "\n")
    if args.iidfile and image_id:
        with open(args.iidfile, "w") as f:
            f.write(image_id)
    return 0
