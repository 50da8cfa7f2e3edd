"""dockyard logs: fetch the logs of a container (-f follows until it stops)."""
from __future__ import annotations

HELP = "Fetch the logs of a container"


def configure(p) -> None:
    p.add_argument("-f", "--follow", action="store_true", help="Follow log output")
    p.add_argument("-n", "--tail", default="all", help="Number of lines to show from the end of the logs")
    p.add_argument("--since", help="Show logs since timestamp or relative (e.g. 42m)")
    p.add_argument("--until", help="Show logs before a timestamp or relative (e.g. 42m)")
    p.add_argument("-t", "--timestamps", action="store_true", help="Show timestamps")
    p.add_argument("--details", action="store_true", help="Show extra details provided to logs")
    p.add_argument("container", metavar="CONTAINER")


def _when(v: str | None) -> str | None:
    """docker's --since forms: unix seconds, RFC 3339, or a duration ago (10s, 5m, 1h)."""
    if not v:
        return None
    num, unit = v[:-1], v[-1:]
    whole, dot, frac = num.partition(".")
    if unit in ("s", "m", "h") and whole.isdigit() and whole.isascii() and \
            (not dot or frac.isdigit() and frac.isascii()):
        import time
        secs = float(num) * {"s": 1, "m": 60, "h": 3600}[unit]
        return f"{time.time() - secs:.9f}"
    return v


def run(args, client) -> int:
    import sys
    from dockyard.cli.commands._attach import demux_bytes
    info = client.get(f"/containers/{args.container}/json")
    params = {"stdout": 1, "stderr": 1, "follow": int(args.follow), "tail": args.tail,
              "timestamps": int(args.timestamps), "since": _when(args.since),
              "until": _when(args.until)}
    resp = client.raw("GET", f"/containers/{info['Id']}/logs",
                      params={k: v for k, v in params.items() if v is not None})
    chunks = iter(lambda: resp.read1(65536) if hasattr(resp, "read1") else resp.read(65536), b"")
    if info["Config"]["Tty"]:
        for c in chunks:
            sys.stdout.buffer.write(c)
            sys.stdout.buffer.flush()
    else:
        demux_bytes(chunks)
    return 0
