"""dockyard search: registries have no search API outside Docker Hub's v1 index."""
from __future__ import annotations

HELP = "Search Docker Hub for images (not supported)"


def configure(p) -> None:
    p.add_argument("term", metavar="TERM")
    p.add_argument("--limit", type=int, default=25, help="Max number of search results")
    p.add_argument("-f", "--filter", action="append", default=[], help="Filter output")
    p.add_argument("--format", default=None, help="Pretty-print search using a Go template")
    p.add_argument("--no-trunc", action="store_true", help="Don't truncate output")


def run(args, client) -> int:
    from dockyard.cli.main import CommandError
    raise CommandError(f"search is not supported: dockyard pulls and pushes through the "
                       f"registry API (v2), which has no search; look {args.term!r} up on "
                       f"the registry's web site instead", 1)
