"""dockyard cp: copy files between a container and the local filesystem (tar over the API).

Never follows a symlink out of the container (resolved in scope by the daemon); extraction
here uses tarfile's ``data`` filter, so a hostile archive cannot write outside the target.
"""
from __future__ import annotations

HELP = "Copy files/folders between a container and the local filesystem"


def configure(p) -> None:
    p.add_argument("-a", "--archive", action="store_true", help="Archive mode (copy all uid/gid information)")
    p.add_argument("-L", "--follow-link", action="store_true", help="Always follow symbol link in SRC_PATH")
    p.add_argument("-q", "--quiet", action="store_true", help="Suppress progress output")
    p.add_argument("src", metavar="SRC")
    p.add_argument("dst", metavar="DEST")


def _split(arg: str):
    if ":" in arg and not arg.startswith(("/", ".")):
        c, _, path = arg.partition(":")
        return c, path
    return None, arg


def run(args, client) -> int:
    from dockyard.cli.main import CommandError
    sc, sp = _split(args.src)
    dc, dp = _split(args.dst)
    if bool(sc) == bool(dc):
        raise CommandError("must specify at least one container source" if not sc else
                           "copying between containers is not supported", 1)
    return _from(client, sc, sp, dp) if sc else _to(client, sp, dc, dp)


def _stat(client, cid: str, path: str) -> dict | None:
    import base64
    from dockyard import jsonlite
    resp = client.raw("HEAD", f"/containers/{cid}/archive", params={"path": path})
    resp.read()
    if resp.status == 404:
        return None
    if resp.status >= 400:
        from dockyard.cli.main import CommandError
        raise CommandError(f"Error response from daemon: {resp.reason}", 1)
    hdr = resp.getheader("X-Docker-Container-Path-Stat")
    return jsonlite.loads(base64.b64decode(hdr)) if hdr else {}


def _from(client, cid: str, src: str, dst: str) -> int:
    import io
    import os
    import sys
    import tarfile
    from dockyard.cli.main import CommandError
    resp = client.raw("GET", f"/containers/{cid}/archive", params={"path": src})
    if resp.status >= 400:
        from dockyard import jsonlite
        msg = jsonlite.loads(resp.read() or b"{}").get("message", resp.reason)
        raise CommandError(f"Error response from daemon: {msg}", 1)
    if dst == "-":
        while chunk := resp.read(65536):
            sys.stdout.buffer.write(chunk)
        return 0
    data = io.BytesIO(resp.read())
    with tarfile.open(fileobj=data, mode="r:") as tf:
        members = tf.getmembers()
        if os.path.isdir(dst):
            tf.extractall(dst, filter="data")
            return 0
        parent = os.path.dirname(os.path.abspath(dst))
        if not os.path.isdir(parent):
            raise CommandError(f"invalid output path: directory {parent!r} does not exist", 1)
        top = members[0].name.split("/")[0] if members else ""
        new = os.path.basename(os.path.abspath(dst))
        for m in members:
            m.name = new + m.name[len(top):]
        tf.extractall(parent, members=members, filter="data")
    return 0


def _to(client, src: str, cid: str, dst: str) -> int:
    import io
    import os
    import posixpath
    import sys
    import tarfile
    from dockyard.cli.main import CommandError
    if src != "-" and not os.path.lexists(src):
        raise CommandError(f"lstat {os.path.abspath(src)}: no such file or directory", 1)
    st = _stat(client, cid, dst)
    if src == "-":
        body, target = sys.stdin.buffer.read(), dst
    else:
        if st is not None and st.get("mode", 0) & (1 << 31):
            target, name = dst, os.path.basename(os.path.abspath(src))
        else:
            target, name = posixpath.dirname(dst.rstrip("/")) or "/", posixpath.basename(dst.rstrip("/"))
        buf = io.BytesIO()
        with tarfile.open(fileobj=buf, mode="w:") as tf:
            tf.add(src, arcname=name)
        body = buf.getvalue()
    resp = client.raw("PUT", f"/containers/{cid}/archive", params={"path": target}, body=body,
                      headers={"Content-Type": "application/x-tar"})
    out = resp.read()
    if resp.status >= 400:
        from dockyard import jsonlite
        msg = jsonlite.loads(out or b"{}").get("message", resp.reason)
        raise CommandError(f"Error response from daemon: {msg}", 1)
    return 0
