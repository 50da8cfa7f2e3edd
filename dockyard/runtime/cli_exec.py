"""``exec`` flags → an OCI process object (defaults from the container's config)."""
from __future__ import annotations

import copy
import os

from dockyard.errors import InvalidArgument
from dockyard.runtime import jsonio


OPTIONS = [
    (("--process", "-p"), "process", "str", None),
    (("--tty", "-t"), "tty", "bool", False),
    (("--console-socket",), "console_socket", "str", None),
    (("--cwd",), "cwd", "str", None),
    (("--env", "-e"), "env", "list", None),
    (("--user", "-u"), "user", "str", None),
    (("--additional-gids", "-g"), "additional_gids", "ilist", None),
    (("--cap", "-c"), "cap", "list", None),
    (("--no-new-privs",), "no_new_privs", "bool", False),
    (("--detach", "-d"), "detach", "bool", False),
    (("--pid-file",), "pid_file", "str", None),
]


def build_process(base: dict, args) -> dict:
    """Start from the container's process; apply the command line on top."""
    if args.process:
        try:
            with open(args.process, "rb") as f:
                return jsonio.loads(f.read())
        except OSError as e:
            raise InvalidArgument(f"{args.process}: {e.strerror}") from None
        except ValueError as e:
            raise InvalidArgument(f"{args.process}: malformed JSON: {e}") from None
    command = args.command
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
        base = jsonio.loads(f.read()).get("process") or {}
    process = build_process(base, args)
    return rt.exec(args.id, process, console_socket=args.console_socket,
                   pid_file=args.pid_file)
