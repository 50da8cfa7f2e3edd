"""dockyard wait: block until one or more containers stop, then print their exit codes."""
from __future__ import annotations

HELP = "Block until one or more containers stop, then print their exit codes"


def configure(p) -> None:
    p.add_argument("containers", nargs="+", metavar="CONTAINER")


def run(args, client) -> int:
    from dockyard import jsonlite
    from dockyard.cli.commands._multi import each

    def one(c):
        resp = client.raw("POST", f"/containers/{c}/wait", params={"condition": "not-running"})
        if resp.status >= 400:
            from dockyard import errors
            msg = jsonlite.loads(resp.read() or b"{}").get("message", "")
            raise (errors.NotFound if resp.status == 404 else errors.DockyardError)(msg)
        return jsonlite.loads(resp.read())["StatusCode"]
    return each(args.containers, one)
