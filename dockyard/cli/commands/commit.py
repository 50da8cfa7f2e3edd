"""dockyard commit: create a new image from a container's changes."""
from __future__ import annotations

HELP = "Create a new image from a container's changes"


def configure(p) -> None:
    p.add_argument("-a", "--author", default="", help="Author")
    p.add_argument("-c", "--change", action="append", default=[], help="Apply Dockerfile instruction to the created image")
    p.add_argument("-m", "--message", default="", help="Commit message")
    p.add_argument("-p", "--pause", default="true", help="Pause container during commit")
    p.add_argument("container", metavar="CONTAINER")
    p.add_argument("repository", nargs="?", metavar="REPOSITORY[:TAG]")


def run(args, client) -> int:
    repo, tag = args.repository or "", ""
    if ":" in repo.rsplit("/", 1)[-1]:  # a tag, not a registry port
        repo, tag = repo.rsplit(":", 1)
    params = {"container": args.container, "repo": repo, "tag": tag, "comment": args.message,
              "author": args.author, "pause": int(args.pause.lower() not in ("false", "0")),
              "changes": args.change or None}
    out = client.post("/commit", {k: v for k, v in params.items() if v not in (None, "")}, json={})
    print(out["Id"])
    return 0
