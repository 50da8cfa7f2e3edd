"""``exec`` flags → an OCI process object (defaults from the container's config)."""
from __future__ import annotations

import copy
import json
import os

from dockyard.errors import InvalidArgument


def configure(s) -> None:
    s.add_argument("--process", "-p", default=None, help="process.json")
    s.add_argument("--tty", "-t", action="store_true")
    s.add_argument("--console-socket", default=None)
    s.add_argument("--cwd", default=None)
    s.add_argument("--env", "-e", action="append", default=[])
    s.add_argument("--user", "-u", default=None, help="UID[:GID]")
    s.add_argument("--additional-gids", "-g", action="append", type=int, default=[])
    s.add_argument("--cap", "-c", action="append", default=[])
    s.add_argument("--no-new-privs", action="store_true")
    s.add_argument("--detach", "-d", action="store_true")
    s.add_argument("--pid-file", default=None)
    s.add_argument("id")
    s.add_argument("command", nargs="*")


def build_process(base: dict, args) -> dict:
    """Start from the container's process; apply the command line on top."""
    if args.process:
        try:
            with open(args.process, "rb") as f:
                return json.loads(f.read())
        except OSError as e:
            raise InvalidArgument(f"{args.process}: {e.strerror}") from None
        except ValueError as e:
            raise InvalidArgument(f"{args.process}: malformed JSON: {e}") from None
    command = [c for c in args.command if c != "--"] if args.command[:1] == ["--"] \
        else args.command
    if not command:
        raise InvalidArgument("exec: a command (or --process) is required")
    process = copy.deepcopy(base)
    process["args"] = command
    process["terminal"] = args.tty
    process["env"] = list(process.get("env") or []) + args.env
    if args.cwd:
        process["cwd"] = args.cwd
    if args.user:
        uid, _, gid = args.user.partition(":")
        process["user"] = {"uid": int(uid), "gid": int(gid or 0)}
    if args.additional_gids:
        process.setdefault("user", {})["additionalGids"] = args.additional_gids
    if args.cap:
        caps = process.setdefault("capabilities", {})
        for kind in ("bounding", "effective", "permitted", "ambient"):
            caps[kind] = sorted(set(caps.get(kind) or []) | set(args.cap))
    if args.no_new_privs:
        process["noNewPrivileges"] = True
    return process


def run(rt, args) -> int:
    from dockyard.runtime.state import StateDir
    sd = StateDir(rt.root, args.id)
    sd.load()  # NotFound first, like runc
    with open(os.path.join(sd.path, "config.json"), "rb") as f:
        base = json.loads(f.read()).get("process") or {}
    process = build_process(base, args)
    return rt.exec(args.id, process, console_socket=args.console_socket,
                   pid_file=args.pid_file)
