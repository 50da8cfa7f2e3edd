"""dockyard import: make an image from a rootfs tarball (file, URL, ``-`` for stdin) or a directory."""
from __future__ import annotations

HELP = "Import the contents from a tarball or a directory to create a filesystem image"


def configure(p) -> None:
    p.add_argument("-c", "--change", action="append", default=[],
                   help="Apply Dockerfile instruction to the created image")
    p.add_argument("-m", "--message", default="", help="Set commit message for imported image")
    p.add_argument("--platform", help="Set platform if server is multi-platform capable")
    p.add_argument("source", metavar="file|URL|-|DIRECTORY")
    p.add_argument("repository", nargs="?", metavar="REPOSITORY[:TAG]")


def open_source(source: str):
    """A readable binary stream for the tarball: a file, stdin, or a directory tarred now."""
    import os
    import sys
    import tempfile
    from dockyard.cli.main import CommandError
    if source == "-":
        return sys.stdin.buffer
    if os.path.isdir(source):
        from dockyard.image.diff import write_dir
        tmp = tempfile.TemporaryFile()
        write_dir(source, tmp)
        tmp.seek(0)
        return tmp
    try:
        return open(source, "rb")
    except OSError as e:
        raise CommandError(f"open {source}: {e.strerror.lower()}") from None


def chunks(stream, size: int = 1 << 18):
    """The body in 256 KiB pieces (large writes keep the upload fast)."""
    while data := stream.read(size):
        yield data


def body_headers(stream) -> dict:
    """A regular file is sent with Content-Length (no chunk framing to parse); pipes chunked."""
    import os
    import stat
    headers = {"Content-Type": "application/x-tar"}
    try:
        st = os.fstat(stream.fileno())
        if stat.S_ISREG(st.st_mode):
            headers["Content-Length"] = str(st.st_size - stream.tell())
    except (OSError, ValueError, AttributeError):
        pass
    return headers


def send(client, stream, repository: str | None, changes: list[str], message: str) -> str:
    """POST /images/create?fromSrc=- with the tarball; return the new image ID."""
    from dockyard import errors
    params = {"fromSrc": "-", "repo": repository, "message": message or None,
              "changes": changes or None}
    image_id = ""
    for msg in client.stream("POST", "/images/create", params, body=chunks(stream),
                             headers=body_headers(stream)):
        if "error" in msg:
            raise errors.DockyardError(msg["error"])
        image_id = msg.get("status", image_id)
    return image_id


def run(args, client) -> int:
    if args.repository:
        from dockyard.oci import reference
        reference.parse(args.repository)  # reject a bad name before sending the tarball
    if args.source.startswith(("http://", "https://")):  # the daemon fetches it, as docker's
        from dockyard import errors
        params = {"fromSrc": args.source, "repo": args.repository,
                  "message": args.message or None, "changes": args.change or None}
        image_id = ""
        for msg in client.stream("POST", "/images/create", params):
            if "error" in msg:
                raise errors.DockyardError(msg["error"])
            image_id = msg.get("status", image_id)
        print(image_id)
        return 0
    stream = open_source(args.source)
    try:
        print(send(client, stream, args.repository, args.change, args.message))
    finally:
        if stream is not getattr(__import__("sys").stdin, "buffer", None):
            stream.close()
    return 0
