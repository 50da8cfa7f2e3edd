"""dockyard images: list images (REPOSITORY TAG IMAGE ID CREATED SIZE), like docker."""
from __future__ import annotations

HELP = "List images"
_HEADERS = {"ID": "IMAGE ID", "CreatedSince": "CREATED", "CreatedAt": "CREATED AT"}


def configure(p) -> None:
    p.add_argument("-a", "--all", action="store_true", help="Show all images (default hides intermediate images)")
    p.add_argument("-q", "--quiet", action="store_true", help="Only show image IDs")
    p.add_argument("--digests", action="store_true", help="Show digests")
    p.add_argument("--no-trunc", action="store_true", help="Don't truncate output")
    p.add_argument("-f", "--filter", action="append", default=[], help="Filter output (dangling=true, reference=..., label=...)")
    p.add_argument("--format", help="Format output using a custom template")
    p.add_argument("repository", nargs="?", metavar="REPOSITORY[:TAG]")


def filters_param(items: list[str], extra: dict | None = None) -> dict | None:
    """``-f k=v`` flags as the API's ``filters`` query parameter (None when empty)."""
    from dockyard import jsonlite
    from dockyard.cli.main import CommandError
    out: dict[str, list[str]] = dict(extra or {})
    for item in items:
        key, sep, value = item.partition("=")
        if not sep:
            raise CommandError(f'invalid argument "{item}" for "-f, --filter" flag: bad format of filter (expected name=value)')
        out.setdefault(key, []).append(value)
    return {"filters": jsonlite.dumps(out)} if out else None


def _split(name: str) -> tuple[str, str | None]:
    """Repository and tag (or digest) of a familiar reference string."""
    if "@" in name:
        repo, digest = name.split("@", 1)
        return repo, digest
    slash, colon = name.rfind("/"), name.rfind(":")
    return (name[:colon], name[colon + 1:]) if colon > slash else (name, None)


def rows_of(img: dict, no_trunc: bool) -> list[dict]:
    """One row per repository:tag (docker's imageFormatTaggedAndDigest)."""
    from dockyard.cli.output import human_size, short_id, since
    import time
    base = {"ID": img["Id"] if no_trunc else short_id(img["Id"]),
            "CreatedSince": since(img["Created"]),
            "CreatedAt": time.strftime("%Y-%m-%d %H:%M:%S +0000 UTC", time.gmtime(img["Created"])),
            "Size": human_size(img["Size"], 3), "Containers": img.get("Containers", -1)}
    digests: dict[str, str] = {}
    for d in img.get("RepoDigests") or []:
        repo, digest = _split(d)
        digests.setdefault(repo, digest)
    rows, seen = [], set()
    for t in img.get("RepoTags") or []:
        repo, tag = _split(t)
        if repo == "<none>":
            continue
        seen.add(repo)
        rows.append({**base, "Repository": repo, "Tag": tag, "Digest": digests.get(repo, "<none>")})
    for repo, digest in digests.items():
        if repo not in seen:
            rows.append({**base, "Repository": repo, "Tag": "<none>", "Digest": digest})
    return rows or [{**base, "Repository": "<none>", "Tag": "<none>", "Digest": "<none>"}]


def run(args, client) -> int:
    from dockyard.cli.output import format_rows, table
    extra = {"reference": [args.repository]} if args.repository else None
    images = client.get("/images/json", dict(filters_param(args.filter, extra) or {},
                                             **({"all": 1} if args.all else {})))
    rows = [r for img in images for r in rows_of(img, args.no_trunc)]
    if args.quiet:
        for r in rows:  # one line per row, as docker does (an image with 2 tags: twice)
            print(r["ID"])
        return 0
    if args.format:
        text = format_rows(args.format, rows, _HEADERS)
        if text:
            print(text)
        return 0
    cols = ["REPOSITORY", "TAG"] + (["DIGEST"] if args.digests else []) + \
        ["IMAGE ID", "CREATED", "SIZE"]
    keys = ["Repository", "Tag"] + (["Digest"] if args.digests else []) + \
        ["ID", "CreatedSince", "Size"]
    print(table([[r[k] for k in keys] for r in rows], cols))
    return 0
