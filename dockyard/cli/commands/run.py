"""dockyard run: create and start a container; attached by default (exit = its status)."""
from __future__ import annotations

HELP = "Create and run a new container from an image"


def configure(p) -> None:
    from dockyard.cli.commands._runopts import add_options
    p.add_argument("-d", "--detach", action="store_true",
                   help="Run container in background and print container ID")
    p.add_argument("--rm", action="store_true",
                   help="Automatically remove the container when it exits")
    p.add_argument("--detach-keys", help="Override the key sequence for detaching a container")
    add_options(p)


def run(args, client) -> int:
    from dockyard.cli.commands._runopts import build_body
    from dockyard.cli.commands.create import create_container
    body = build_body(args)
    if not args.detach:  # refused before anything exists, as docker's CLI does
        from dockyard.cli.commands._attach import check_tty, detach_keys_of
        check_tty(args.tty, args.interactive)
        detach_keys_of(args, 125)
    from dockyard.cli.commands.create import cidfile
    with cidfile(args.cidfile) as write:
        cid = create_container(client, body, args.name, args.pull, args.quiet, verb="run")
        write(cid)
    if args.detach:
        _start(client, cid, args)
        print(cid)
        return 0
    return _run_attached(client, cid, args)


def _start(client, cid: str, args) -> None:
    from dockyard import errors
    from dockyard.cli.main import CommandError
    try:
        client.post(f"/containers/{cid}/start")
    except errors.DockyardError as e:
        msg = str(e)
        if args.rm:
            try:
                client.delete(f"/containers/{cid}", {"force": 1})
            except errors.DockyardError:
                pass
        status = 127 if "not found" in msg else 126 if "permission denied" in msg else 125
        raise CommandError(f"dockyard: Error response from daemon: {msg}.", status) from None


def _run_attached(client, cid: str, args) -> int:
    from dockyard import jsonlite
    from dockyard.cli.commands._attach import (detach_keys_of, proxy_signals,
                                               resize_on_winch, stream_io)
    from dockyard.cli.commands._runopts import attach_streams
    keys = detach_keys_of(args, 125)
    streams = attach_streams(args)
    params = {"stream": 1, "stdout": int("stdout" in streams),
              "stderr": int("stderr" in streams), "stdin": int("stdin" in streams)}
    if args.detach_keys:  # the daemon's relay watches the same keys (see attach_and_wait)
        params["detachKeys"] = args.detach_keys
    sock = client.hijack("POST", f"/containers/{cid}/attach", params)
    waiter = _second(client).raw("POST", f"/containers/{cid}/wait",
                                 params={"condition": "removed" if args.rm else "next-exit"})
    _start(client, cid, args)
    if args.tty:
        resize_on_winch(lambda h, w: client.post(f"/containers/{cid}/resize", {"h": h, "w": w}))
    elif args.sig_proxy.lower() not in ("false", "0"):  # docker's --sig-proxy=false
        proxy_signals(lambda sig: _second(client).post(f"/containers/{cid}/kill",
                                                       {"signal": sig}))
    try:
        detached = stream_io(sock, args.tty, "stdin" in streams, keys)
    finally:
        sock.close()
    if detached:  # ctrl-p ctrl-q: the container goes on; its wait answer is not read
        return 0
    out = jsonlite.loads(waiter.read() or b"{}")
    if out.get("Error"):
        import sys
        print(f"dockyard: {out['Error'].get('Message')}", file=sys.stderr)
    return int(out.get("StatusCode", 0))


def _second(client):
    """A second connection: the wait response stays open while we attach and start."""
    clone = getattr(client, "clone", None)
    if clone:
        return clone()
    return type(client)(getattr(client, "host", None))
