"""dockyard history: show the history of an image."""
from __future__ import annotations

HELP = "Show the history of an image"


def configure(p) -> None:
    p.add_argument("-H", "--human", default="true", nargs="?", const="true",
                   help="Print sizes and dates in human readable format (default true)")
    p.add_argument("--no-trunc", action="store_true", help="Don't truncate output")
    p.add_argument("-q", "--quiet", action="store_true", help="Only show image IDs")
    p.add_argument("--format", help="Format output using a custom template")
    p.add_argument("image", metavar="IMAGE")


def _row(h: dict, args) -> dict:
    import time
    from dockyard.cli.output import human_size, short_id, since
    human = str(args.human).lower() != "false"
    ident = h["Id"] if args.no_trunc or h["Id"] == "<missing>" else short_id(h["Id"])
    created_by = " ".join(h.get("CreatedBy", "").split()) if not args.no_trunc else h.get("CreatedBy", "")
    if not args.no_trunc and len(created_by) > 45:
        created_by = created_by[:44] + "…"
    when = since(h["Created"]) if human else \
        time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(h["Created"]))
    return {"ID": ident, "CreatedSince": when, "CreatedAt": when, "CreatedBy": created_by,
            "Size": human_size(h["Size"], 3) if human else str(h["Size"]),
            "Comment": h.get("Comment", "")}


def run(args, client) -> int:
    from dockyard.cli.output import format_rows, table
    rows = [_row(h, args) for h in client.get(f"/images/{args.image}/history")]
    if args.quiet:
        print("\n".join(r["ID"] for r in rows))
    elif args.format:
        print(format_rows(args.format, rows, {"ID": "IMAGE", "CreatedSince": "CREATED",
                                              "CreatedBy": "CREATED BY"}))
    else:
        print(table([[r["ID"], r["CreatedSince"], r["CreatedBy"], r["Size"], r["Comment"]]
                     for r in rows], ["IMAGE", "CREATED", "CREATED BY", "SIZE", "COMMENT"]))
    return 0
