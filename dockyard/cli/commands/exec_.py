"""dockyard exec: run a command in a running container."""
from __future__ import annotations

from dockyard.cli.flags import REMAINDER

HELP = "Execute a command in a running container"


def configure(p) -> None:
    p.add_argument("-d", "--detach", action="store_true", help="Detached mode: run command in the background")
    p.add_argument("-i", "--interactive", action="store_true", help="Keep STDIN open even if not attached")
    p.add_argument("-t", "--tty", action="store_true", help="Allocate a pseudo-TTY")
    p.add_argument("-e", "--env", action="append", default=[], help="Set environment variables")
    p.add_argument("-u", "--user", help="Username or UID (format: <name|uid>[:<group|gid>])")
    p.add_argument("-w", "--workdir", help="Working directory inside the container")
    p.add_argument("--privileged", action="store_true", help="Give extended privileges to the command")
    p.add_argument("--detach-keys", help="Override the key sequence for detaching a container")
    p.add_argument("container", metavar="CONTAINER")
    p.add_argument("command", nargs=REMAINDER, metavar="COMMAND")


def run(args, client) -> int:
    from dockyard.cli.commands._attach import (detach_keys_of, resize_on_winch, stream_io,
                                               terminal_size)
    from dockyard.cli.main import CommandError
    keys = detach_keys_of(args)
    if not args.command:
        raise CommandError("exec requires at least 2 arguments", 1)
    if not args.detach:
        from dockyard.cli.commands._attach import check_tty
        check_tty(args.tty, args.interactive)
    body = {"User": args.user or "", "Privileged": args.privileged, "Tty": args.tty,
            "AttachStdin": args.interactive and not args.detach,
            "AttachStdout": not args.detach, "AttachStderr": not args.detach,
            "Detach": args.detach, "Env": args.env or None, "WorkingDir": args.workdir or "",
            "Cmd": args.command}
    if args.detach_keys:  # the daemon's relay watches the same keys (see attach_and_wait)
        body["DetachKeys"] = args.detach_keys
    if args.tty and terminal_size():
        body["ConsoleSize"] = list(terminal_size())
    eid = client.post(f"/containers/{args.container}/exec", json=body)["Id"]
    if args.detach:
        client.post(f"/exec/{eid}/start", json={"Detach": True, "Tty": args.tty})
        return 0
    sock = client.hijack("POST", f"/exec/{eid}/start", None,
                         {"Detach": False, "Tty": args.tty})
    if args.tty:
        resize_on_winch(lambda h, w: client.post(f"/exec/{eid}/resize", {"h": h, "w": w}))
    try:
        detached = stream_io(sock, args.tty, args.interactive, keys)
    finally:
        sock.close()
    if detached:  # the command goes on in the container; docker says so and exits 1
        from dockyard.cli.commands._attach import Detached
        raise CommandError(Detached.MESSAGE, 1)
    code = client.get(f"/exec/{eid}/json").get("ExitCode")
    return 126 if code is None else int(code)
