"""``dockyard-runtime``: runc's verbs and flags as thin wrappers over Runtime.

Errors print like runc's (``time="…" level=error msg="…"`` on stderr, or JSON
with ``--log-format json``) and exit 1. ``run`` and ``exec`` (without -d) exit
with the container process's status.
"""
from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import time

DEFAULT_ROOT = "/run/dockyard-runtime"
VERBS = {}


def verb(name: str, help: str):
    def register(fn):
        VERBS[name] = (fn, help)
        return fn
    return register


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="dockyard-runtime", description="OCI runtime")
    p.add_argument("--root", default=DEFAULT_ROOT, help="state directory")
    p.add_argument("--log", default=None, help="log file")
    p.add_argument("--log-format", default="text", choices=("text", "json"))
    p.add_argument("--debug", action="store_true")
    p.add_argument("--systemd-cgroup", action="store_true")
    sub = p.add_subparsers(dest="verb", required=True)
    for name, (fn, help_) in VERBS.items():
        fn(sub.add_parser(name, help=help_), None)
    return p


def _create_args(s) -> None:
    s.add_argument("--bundle", "-b", default=".")
    s.add_argument("--pid-file", default=None)
    s.add_argument("--console-socket", default=None)
    s.add_argument("--no-pivot", action="store_true")
    s.add_argument("--no-new-keyring", action="store_true")
    s.add_argument("--preserve-fds", type=int, default=0)
    s.add_argument("id")


@verb("create", "create a container")
def cmd_create(s, args):
    if args is None:
        return _create_args(s)
    _rt(args).create(args.id, args.bundle, console_socket=args.console_socket,
                     pid_file=args.pid_file, no_pivot=args.no_pivot)
    return 0


@verb("start", "start a created container")
def cmd_start(s, args):
    if args is None:
        return s.add_argument("id")
    _rt(args).start(args.id)
    return 0


@verb("run", "create and start a container, wait for it")
def cmd_run(s, args):
    if args is None:
        _create_args(s)
        return s.add_argument("--detach", "-d", action="store_true")
    rt = _rt(args)
    pid = rt.create(args.id, args.bundle, console_socket=args.console_socket,
                    pid_file=args.pid_file, no_pivot=args.no_pivot)
    try:
        _forward_signals(pid)
        rt.start(args.id)
    except BaseException:
        rt.delete(args.id, force=True)
        raise
    if args.detach:
        return 0
    code = _wait(pid)
    rt.delete(args.id, force=True)
    return code


def _forward_signals(pid: int) -> None:
    """Pass the usual termination signals on to the container's init."""
    def forward(signum, _frame):
        try:
            os.kill(pid, signum)
        except ProcessLookupError:
            pass
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT,
                signal.SIGUSR1, signal.SIGUSR2, signal.SIGWINCH):
        signal.signal(sig, forward)


def _wait(pid: int) -> int:
    """Wait for our child ``pid``; its exit code, or 128+signal like a shell."""
    while True:
        try:
            _, status = os.waitpid(pid, 0)
        except InterruptedError:
            continue
        if os.WIFSIGNALED(status):
            return 128 + os.WTERMSIG(status)
        return os.WEXITSTATUS(status)


@verb("state", "print the state of a container")
def cmd_state(s, args):
    if args is None:
        return s.add_argument("id")
    print(json.dumps(_rt(args).state(args.id), indent=2))
    return 0


@verb("kill", "send a signal to the container's init")
def cmd_kill(s, args):
    if args is None:
        s.add_argument("--all", "-a", action="store_true")
        s.add_argument("id")
        return s.add_argument("signal", nargs="?", default="SIGTERM")
    _rt(args).kill(args.id, args.signal, all=args.all)
    return 0


@verb("delete", "delete a container")
def cmd_delete(s, args):
    if args is None:
        s.add_argument("--force", "-f", action="store_true")
        return s.add_argument("id")
    _rt(args).delete(args.id, force=args.force)
    return 0


@verb("pause", "freeze every process of a container")
def cmd_pause(s, args):
    if args is None:
        return s.add_argument("id")
    _rt(args).pause(args.id)
    return 0


@verb("resume", "thaw a paused container")
def cmd_resume(s, args):
    if args is None:
        return s.add_argument("id")
    _rt(args).resume(args.id)
    return 0


@verb("list", "list containers")
def cmd_list(s, args):
    if args is None:
        s.add_argument("--format", "-f", default="table", choices=("table", "json"))
        return s.add_argument("--quiet", "-q", action="store_true")
    states = _rt(args).list()
    if args.format == "json":
        print(json.dumps(states))
    elif args.quiet:
        print("\n".join(x["id"] for x in states))
    else:
        print(_table([("ID", "PID", "STATUS", "BUNDLE", "CREATED", "OWNER")]
                     + [(x["id"], str(x["pid"]), x["status"], x["bundle"], x["created"],
                         "root") for x in states]))
    return 0


@verb("ps", "list the processes of a container")
def cmd_ps(s, args):
    if args is None:
        s.add_argument("--format", "-f", default="table", choices=("table", "json"))
        return s.add_argument("id")
    pids = _rt(args).ps(args.id)
    if args.format == "json":
        print(json.dumps(pids))
    else:
        print(_table([("PID", "CMD")] + [(str(p), _cmdline(p)) for p in pids]))
    return 0


def _cmdline(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read().replace(b"\0", b" ").decode(errors="replace").strip()
    except OSError:
        return ""


def _table(rows) -> str:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return "\n".join("   ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in rows)


@verb("exec", "run a new process inside a container")
def cmd_exec(s, args):
    if args is None:
        from dockyard.runtime.cli_exec import configure
        return configure(s)
    from dockyard.runtime.cli_exec import run
    rt = _rt(args)
    pid = run(rt, args)
    if args.detach:
        return 0
    return _wait(pid)


@verb("features", "print the features this runtime supports (JSON)")
def cmd_features(s, args):
    if args is None:
        return None
    from dockyard.runtime.features import features
    print(json.dumps(features(), indent=2))
    return 0


def _rt(args):
    from dockyard.runtime.container import Runtime
    return Runtime(args.root)


def _log_error(args, message: str) -> None:
    now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    if getattr(args, "log_format", "text") == "json":
        line = json.dumps({"level": "error", "msg": message, "time": now})
    else:
        line = f'time="{now}" level=error msg={json.dumps(message)}'
    print(line, file=sys.stderr)
    if getattr(args, "log", None):
        with open(args.log, "a") as f:
            f.write(line + "\n")


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    fn, _ = VERBS[args.verb]
    try:
        return fn(None, args) or 0
    except Exception as e:  # noqa: BLE001 - the edge: every error becomes a message
        from dockyard.runtime.process.sync import error_message
        _log_error(args, error_message(e))
        return 1


if __name__ == "__main__":
    sys.exit(main())
