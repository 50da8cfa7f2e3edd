"""dockyard attach: attach local standard input, output and error to a running container."""
from __future__ import annotations

HELP = "Attach local standard input, output, and error streams to a running container"


def configure(p) -> None:
    p.add_argument("--no-stdin", action="store_true", help="Do not attach STDIN")
    p.add_argument("--sig-proxy", default="true", help="Proxy all received signals to the process")
    p.add_argument("--detach-keys", help="Override the key sequence for detaching a container")
    p.add_argument("container", metavar="CONTAINER")


def run(args, client) -> int:
    import json
    from dockyard.cli.commands._attach import resize_on_winch, stream_io
    from dockyard.cli.commands.run import _second
    from dockyard.cli.main import CommandError
    info = client.get(f"/containers/{args.container}/json")
    if not info["State"]["Running"]:
        raise CommandError("You cannot attach to a stopped container, start it first", 1)
    if info["State"]["Paused"]:
        raise CommandError("You cannot attach to a paused container, unpause it first", 1)
    cid, tty = info["Id"], info["Config"]["Tty"]
    stdin = not args.no_stdin and info["Config"]["OpenStdin"]
    sock = client.hijack("POST", f"/containers/{cid}/attach",
                         {"stream": 1, "stdout": 1, "stderr": 1, "stdin": int(stdin)})
    waiter = _second(client).raw("POST", f"/containers/{cid}/wait", params={"condition": "next-exit"})
    if tty:
        resize_on_winch(lambda h, w: client.post(f"/containers/{cid}/resize", {"h": h, "w": w}))
    try:
        stream_io(sock, tty, stdin)
    finally:
        sock.close()
    return int(json.loads(waiter.read() or b"{}").get("StatusCode", 0))
