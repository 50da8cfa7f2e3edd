"""dockyard create: create a new container (pulls the image when it is missing)."""
from __future__ import annotations

HELP = "Create a new container"


def configure(p) -> None:
    from dockyard.cli.commands._runopts import add_options
    p.set_defaults(detach=True, rm=False)
    p.add_argument("--rm", action="store_true", help="Automatically remove the container when it exits")
    add_options(p)


def create_container(client, body: dict, name: str | None, pull: str = "missing",
                     quiet: bool = False, verb: str = "create") -> str:
    """POST /containers/create, pulling on "No such image" like docker; errors → 125."""
    from dockyard import errors
    from dockyard.cli.main import CommandError
    params = {"name": name} if name else None
    try:
        if pull == "always":
            _pull(client, body["Image"], quiet)
        return _created(client.post("/containers/create", params, json=body))
    except errors.NotFound as e:
        if pull == "never" or "No such image" not in str(e):
            raise CommandError(f"dockyard: Error response from daemon: {e}", 125) from None
    except errors.DockyardError as e:
        raise CommandError(f"dockyard: Error response from daemon: {e}\n"
                           f"See 'dockyard {verb} --help'.", 125) from None
    import sys
    from dockyard.oci import reference
    print(f"Unable to find image '{_familiar(reference, body['Image'])}' locally", file=sys.stderr)
    try:
        _pull(client, body["Image"], quiet)
        return _created(client.post("/containers/create", params, json=body))
    except errors.DockyardError as e:
        raise CommandError(f"dockyard: Error response from daemon: {e}\n"
                           f"See 'dockyard {verb} --help'.", 125) from None


def _created(reply: dict) -> str:
    """The new container's ID; the daemon's warnings go to stderr, as docker prints them."""
    if reply.get("Warnings"):
        import sys
        for w in reply["Warnings"]:
            print(f"WARNING: {w}", file=sys.stderr)
    return reply["Id"]


def _familiar(reference, image: str) -> str:
    ref = reference.parse(image)
    s = str(ref)
    for prefix in ("docker.io/library/", "docker.io/"):
        if s.startswith(prefix):
            return s[len(prefix):]
    return s


def _pull(client, image: str, quiet: bool) -> None:
    from dockyard.cli.progress import StreamError, render
    from dockyard.oci import reference
    from dockyard import errors
    from dockyard.registry import config
    ref = reference.parse(image)
    auth = config.encode_auth_header(config.get_credentials(ref.domain))  # as `pull` does
    try:
        render(client.stream("POST", "/images/create",
                             {"fromImage": ref.name, "tag": ref.digest or ref.tag},
                             headers={"X-Registry-Auth": auth}), quiet=quiet)
    except StreamError as e:
        raise errors.DockyardError(str(e)) from None


def run(args, client) -> int:
    from dockyard.cli.commands._runopts import build_body
    args.detach, args._verb = True, "create"
    body = build_body(args)
    with cidfile(args.cidfile) as write:
        cid = create_container(client, body, args.name, args.pull, args.quiet)
        write(cid)
    print(cid)
    return 0


class cidfile:
    """``with cidfile(path) as write``: ``--cidfile``, refused when the file exists
    (docker's words); ``write(cid)`` once the container exists; the file is removed
    again if creating fails. A plain class: contextlib costs the CLI's hot path."""

    def __init__(self, path: str | None):
        self.path, self.f = path, None

    def __enter__(self):
        if not self.path:
            return lambda cid: None
        import os
        from dockyard.cli.main import CommandError
        if os.path.exists(self.path):
            raise CommandError(f"dockyard: Container ID file found, make sure the other "
                               f"container isn't running or delete {self.path}", 125)
        try:
            self.f = open(self.path, "x")
        except OSError as e:
            raise CommandError(f"dockyard: failed to create the container ID file: "
                               f"open {self.path}: {e.strerror.lower()}", 125) from None
        return lambda cid: (self.f.write(cid), self.f.flush())

    def __exit__(self, kind, value, tb) -> None:
        if self.f is None:
            return
        self.f.close()
        if kind is not None:
            import os
            os.unlink(self.path)
