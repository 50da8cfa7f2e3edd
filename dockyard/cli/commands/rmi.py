"""dockyard rmi: remove one or more images (untag, then delete when nothing names it)."""
from __future__ import annotations

HELP = "Remove one or more images"


def configure(p) -> None:
    p.add_argument("-f", "--force", action="store_true", help="Force removal of the image")
    p.add_argument("--no-prune", action="store_true", help="Do not delete untagged parents")
    p.add_argument("images", nargs="+", metavar="IMAGE")


def run(args, client) -> int:
    import sys
    from dockyard import errors
    status = 0
    params = {"force": 1 if args.force else None, "noprune": 1 if args.no_prune else None}
    for name in args.images:
        try:
            records = client.delete(f"/images/{name}", params) or []
        except errors.DockyardError as e:
            print(f"Error response from daemon: {e}", file=sys.stderr)
            status = 1
            continue
        for rec in records:
            for key in ("Untagged", "Deleted"):
                if key in rec:
                    print(f"{key}: {rec[key]}")
    return status
