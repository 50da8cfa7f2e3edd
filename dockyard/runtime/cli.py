"""``dockyard-runtime``: runc's verbs and flags as thin wrappers over Runtime.

Errors print like runc's (``time="…" level=error msg="…"`` on stderr, or JSON
with ``--log-format json``) and exit 1. ``run`` and ``exec`` (without -d) exit
with the container process's status (128+N when killed by signal N).
"""
from __future__ import annotations

import os
import sys
import time

from dockyard.runtime import cliargs

CREATE_OPTS = [
    (("--bundle", "-b"), "bundle", "str", "."),
    (("--pid-file",), "pid_file", "str", None),
    (("--console-socket",), "console_socket", "str", None),
    (("--no-pivot",), "no_pivot", "bool", False),
    (("--no-new-keyring",), "no_new_keyring", "bool", False),
    (("--preserve-fds",), "preserve_fds", "int", 0),
    (("--detach", "-d"), "detach", "bool", False),
]
FORMAT_OPT = [(("--format", "-f"), "format", "str", "table")]
ID = [("id", True)]


def _no_preserve(a) -> None:
    if a.preserve_fds:
        raise cliargs.InvalidArgument("--preserve-fds is not supported")


def cmd_create(rt, a) -> int:
    _no_preserve(a)
    rt.create(a.id, a.bundle, console_socket=a.console_socket, pid_file=a.pid_file,
              no_pivot=a.no_pivot)
    return 0


def cmd_run(rt, a) -> int:
    _no_preserve(a)
    pid = rt.create(a.id, a.bundle, console_socket=a.console_socket, pid_file=a.pid_file,
                    no_pivot=a.no_pivot)
    try:
        _forward_signals(pid)
        rt.start(a.id)
    except BaseException:
        rt.delete(a.id, force=True)
        raise
    if a.detach:
        return 0
    code = _wait(pid)
    rt.delete(a.id, force=True)
    return code


def _forward_signals(pid: int) -> None:
    """Pass termination and job-control signals on to the container's init."""
    import _signal  # the C module: ``signal`` builds enums at import (slow)
    from dockyard.runtime.signals import FORWARDED

    def forward(signum, _frame):
        try:
            os.kill(pid, signum)
        except ProcessLookupError:
            pass
    for sig in FORWARDED:
        _signal.signal(sig, forward)


def _wait(pid: int) -> int:
    """Wait for our child ``pid``; its exit code, or 128+signal like a shell."""
    _, status = os.waitpid(pid, 0)  # PEP 475: retried after our signal handlers
    if os.WIFSIGNALED(status):
        return 128 + os.WTERMSIG(status)
    return os.WEXITSTATUS(status)


def cmd_start(rt, a) -> int:
    rt.start(a.id)
    return 0


def cmd_state(rt, a) -> int:
    import json
    print(json.dumps(rt.state(a.id), indent=2))
    return 0


def cmd_kill(rt, a) -> int:
    rt.kill(a.id, a.signal or "SIGTERM", all=a.all)
    return 0


def cmd_delete(rt, a) -> int:
    rt.delete(a.id, force=a.force)
    return 0


def cmd_pause(rt, a) -> int:
    rt.pause(a.id)
    return 0


def cmd_resume(rt, a) -> int:
    rt.resume(a.id)
    return 0


def cmd_list(rt, a) -> int:
    import json
    states = rt.list()
    if a.format == "json":
        print(json.dumps(states))
    elif a.quiet:
        print("\n".join(x["id"] for x in states))
    else:
        rows = [("ID", "PID", "STATUS", "BUNDLE", "CREATED", "OWNER")]
        rows += [(x["id"], str(x["pid"]), x["status"], x["bundle"], x["created"], "root")
                 for x in states]
        print(_table(rows))
    return 0


def cmd_ps(rt, a) -> int:
    import json
    pids = rt.ps(a.id)
    if a.format == "json":
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


def cmd_exec(rt, a) -> int:
    from dockyard.runtime.cli_exec import run
    pid = run(rt, a)
    return 0 if a.detach else _wait(pid)


def cmd_events(rt, a) -> int:
    """``events --stats ID``: one stats event, in runc's shape."""
    import json
    if not a.stats:
        raise cliargs.InvalidArgument("events: only --stats is supported")
    print(json.dumps({"type": "stats", "id": a.id, "data": rt.stats(a.id)}))
    return 0


UPDATE_OPTS = [
    (("--resources", "-r"), "resources", "str", None),
    (("--memory",), "memory", "str", None),
    (("--memory-reservation",), "memory_reservation", "str", None),
    (("--memory-swap",), "memory_swap", "str", None),
    (("--cpu-share",), "cpu_share", "int", None),
    (("--cpu-period",), "cpu_period", "int", None),
    (("--cpu-quota",), "cpu_quota", "int", None),
    (("--cpu-rt-period",), "cpu_rt_period", "int", None),
    (("--cpu-rt-runtime",), "cpu_rt_runtime", "int", None),
    (("--cpuset-cpus",), "cpuset_cpus", "str", None),
    (("--cpuset-mems",), "cpuset_mems", "str", None),
    (("--pids-limit",), "pids_limit", "int", None),
    (("--blkio-weight",), "blkio_weight", "int", None),
]


def cmd_update(rt, a) -> int:
    """runc's ``update``: ``--resources FILE|-`` (OCI linux.resources JSON), then the
    single-value flags on top of it."""
    from dockyard.runtime import jsonio
    res: dict = {}
    if a.resources:
        where = "stdin" if a.resources == "-" else a.resources
        try:
            if a.resources == "-":
                text = sys.stdin.read()
            else:
                with open(a.resources) as f:
                    text = f.read()
            res = jsonio.loads(text)
        except (OSError, ValueError) as e:
            raise cliargs.InvalidArgument(f"update: reading resources from {where}: {e}") \
                from None
        if not isinstance(res, dict):
            raise cliargs.InvalidArgument(f"update: resources from {where}: not an object")
    mem, cpu = res.setdefault("memory", {}), res.setdefault("cpu", {})
    for flag, key in (("memory", "limit"), ("memory_reservation", "reservation"),
                      ("memory_swap", "swap")):
        value = getattr(a, flag)
        if value is not None:
            mem[key] = _bytes(value, "--" + flag.replace("_", "-"))
    for flag, key in (("cpu_share", "shares"), ("cpu_period", "period"), ("cpu_quota", "quota"),
                      ("cpu_rt_period", "realtimePeriod"), ("cpu_rt_runtime", "realtimeRuntime"),
                      ("cpuset_cpus", "cpus"), ("cpuset_mems", "mems")):
        if getattr(a, flag) is not None:
            cpu[key] = getattr(a, flag)
    if a.pids_limit is not None:
        res["pids"] = {"limit": a.pids_limit}
    if a.blkio_weight is not None:
        res.setdefault("blockIO", {})["weight"] = a.blkio_weight
    rt.update(a.id, {k: v for k, v in res.items() if v})
    return 0


def _bytes(value: str, flag: str) -> int:
    """runc's units.RAMInBytes: ``1048576``, ``512m``, ``1g``; -1 is unlimited."""
    s = value.strip().lower()
    mult = 1
    for suffix, m in (("kib", 1 << 10), ("mib", 1 << 20), ("gib", 1 << 30), ("kb", 1 << 10),
                      ("mb", 1 << 20), ("gb", 1 << 30), ("k", 1 << 10), ("m", 1 << 20),
                      ("g", 1 << 30), ("b", 1)):
        if s.endswith(suffix):
            s, mult = s[:-len(suffix)], m
            break
    try:
        return int(float(s) * mult) if s != "-1" else -1
    except ValueError:
        raise cliargs.InvalidArgument(f"invalid value {value!r} for flag {flag}") from None


def cmd_features(rt, a) -> int:
    import json
    from dockyard.runtime.features import features
    print(json.dumps(features(), indent=2))
    return 0


def _exec_opts():
    from dockyard.runtime.cli_exec import OPTIONS
    return OPTIONS


# verb → (handler, options, positionals, help)
VERBS = {
    "create": (cmd_create, CREATE_OPTS, ID, "create a container"),
    "run": (cmd_run, CREATE_OPTS, ID, "create and start a container, wait for it"),
    "start": (cmd_start, [], ID, "start a created container"),
    "state": (cmd_state, [], ID, "print a container's OCI state"),
    "kill": (cmd_kill, [(("--all", "-a"), "all", "bool", False)],
             ID + [("signal", False)], "signal a container's init (default SIGTERM)"),
    "delete": (cmd_delete, [(("--force", "-f"), "force", "bool", False)], ID,
               "delete a container"),
    "pause": (cmd_pause, [], ID, "freeze every process of a container"),
    "resume": (cmd_resume, [], ID, "thaw a paused container"),
    "list": (cmd_list, FORMAT_OPT + [(("--quiet", "-q"), "quiet", "bool", False)], [],
             "list containers"),
    "ps": (cmd_ps, FORMAT_OPT, ID, "list a container's processes"),
    "exec": (cmd_exec, None, ID + [("*", "command")], "run a process in a container"),
    "events": (cmd_events, [(("--stats",), "stats", "bool", False),
                            (("--interval",), "interval", "str", "5s")], ID,
               "print a container's cgroup stats (--stats)"),
    "update": (cmd_update, UPDATE_OPTS, ID,
               "change a running container's cgroup limits (runc's flags)"),
    "features": (cmd_features, [], [], "print supported features (JSON)"),
}


def _usage() -> str:
    lines = ["usage: dockyard-runtime [--root DIR] [--log FILE] [--log-format text|json] "
             "VERB [ARGS]", "", "verbs:"]
    lines += [f"  {name:<10} {spec[3]}" for name, spec in VERBS.items()]
    return "\n".join(lines)


def _log_error(g, message: str) -> None:
    now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    from dockyard.runtime import jsonio
    if getattr(g, "log_format", "text") == "json":
        line = jsonio.dumps({"level": "error", "msg": message, "time": now})
    else:
        line = f'time="{now}" level=error msg={jsonio.dumps(message)}'
    print(line, file=sys.stderr)
    if getattr(g, "log", None):
        with open(g.log, "a") as f:
            f.write(line + "\n")


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``dockyard-runtime`` console script (``argv`` given: a
    call from Python, which returns the exit code; else exits the process)."""
    if argv is None:
        import gc
        gc.disable()  # a short-lived process: collections only cost time (and COW pages)
        _exit(_main(sys.argv[1:]))
    return _main(argv)


def _main(argv: list[str]) -> int:
    g = cliargs.Namespace(log_format="text", log=None)
    try:
        g, rest = cliargs.parse(argv, cliargs.GLOBAL, [], stop_at_positional=True)
        if g.help or not rest:
            print(_usage())
            return 0 if g.help else 1
        if g.version:
            print("dockyard-runtime version 0.1.0\nspec: 1.0.2-dev")
            return 0
        if rest[0] not in VERBS:
            raise cliargs.InvalidArgument(f"no such command: {rest[0]}")
        handler, options, positionals, _ = VERBS[rest[0]]
        a, _ = cliargs.parse(rest[1:], options if options is not None else _exec_opts(),
                             positionals)
        from dockyard.runtime.container import Runtime
        return handler(Runtime(g.root), a) or 0
    except BrokenPipeError:
        return 141  # our output's reader went away (128 + SIGPIPE, like a killed writer)
    except Exception as e:  # noqa: BLE001 - the edge: every error becomes a message
        from dockyard.runtime.process.sync import error_message
        _log_error(g, error_message(e))
        return 1


def _exit(code: int) -> None:
    """Exit without interpreter teardown (module and GC finalisation cost
    milliseconds on every call and nothing here needs it)."""
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except BrokenPipeError:  # `… | head`: the reader is gone, nothing to report
        pass
    os._exit(code)


if __name__ == "__main__":
    _exit(main())
