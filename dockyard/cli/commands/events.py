"""dockyard events: get real time events from the server."""
from __future__ import annotations

HELP = "Get real time events from the server"


def configure(p) -> None:
    p.add_argument("--since", help="Show all events created since timestamp")
    p.add_argument("--until", help="Stream events until this timestamp")
    p.add_argument("-f", "--filter", action="append", default=[], help="Filter output based on conditions provided")
    p.add_argument("--format", help="Format the output using the given Go template")


def run(args, client) -> int:
    from dockyard import jsonlite
    import time
    from dockyard.cli.commands.logs import _when
    filters: dict = {}
    for f in args.filter:
        k, _, v = f.partition("=")
        filters.setdefault(k, []).append(v)
    params = {"since": _when(args.since), "until": _when(args.until),
              "filters": jsonlite.dumps(filters) if filters else None}
    for ev in client.stream("GET", "/events", {k: v for k, v in params.items() if v}):
        if args.format:
            from dockyard.cli.output import format_template
            print(format_template(args.format, ev), flush=True)
            continue
        ts = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ev["timeNano"] // 1_000_000_000))
        ns = ev["timeNano"] % 1_000_000_000
        attrs = ", ".join(f"{k}={v}" for k, v in sorted(ev["Actor"]["Attributes"].items()))
        print(f"{ts}.{ns:09d}Z {ev['Type']} {ev['Action']} {ev['Actor']['ID']} ({attrs})",
              flush=True)
    return 0
