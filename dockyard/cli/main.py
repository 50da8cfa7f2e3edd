"""The ``dockyard`` command line: docker's verbs, flags and output.

Errors become exit codes here and only here: a daemon error prints docker's
``Error response from daemon: …`` and exits 1 (``run``/``create`` use 125 as docker
does, by raising ``CommandError(…, 125)``).
"""
from __future__ import annotations

import sys

from dockyard import getenv
from dockyard.cli.commands import ALIASES, COMMANDS
from dockyard.cli.flags import Parser

# Start-up is most of a short command's time, so the hot paths (ps, run, create, start,
# stop, rm, images, inspect, exec, logs, version) import only builtins and this package:
# no argparse (cli/flags.py parses), socket (_socket), json (jsonlite), re, enum,
# typing or signal. tests/unit/cli/test_lean_imports.py keeps it that way.


def _module(name: str):
    __import__(name)
    return sys.modules[name]


class CommandError(Exception):
    """A CLI-side error with a chosen exit status."""

    def __init__(self, message: str, status: int = 1):
        super().__init__(message)
        self.status = status


def _usage() -> str:
    lines = ["Usage:  dockyard [OPTIONS] COMMAND", "",
             "A Docker-compatible container engine", "", "Commands:"]
    for verb in sorted(COMMANDS):
        try:
            helptext = _module(COMMANDS[verb]).HELP
        except Exception:
            helptext = ""
        lines.append(f"  {verb:<10} {helptext}")
    lines += ["", "Global options:", "  -H, --host string   Daemon socket (unix:///path)",
              "  -D, --debug          Show tracebacks", "  -v, --version        Print version"]
    return "\n".join(lines)


def _split_globals(argv: list[str]) -> tuple[dict, list[str]]:
    opts: dict = {}
    i = 0
    while i < len(argv):
        a = argv[i]
        if a in ("-H", "--host") and i + 1 < len(argv):
            opts["host"] = argv[i + 1]
            i += 2
        elif a.startswith("--host="):
            opts["host"] = a.split("=", 1)[1]
            i += 1
        elif a in ("-D", "--debug"):
            opts["debug"] = True
            i += 1
        elif a in ("-v", "--version"):
            opts["version"] = True
            i += 1
        elif a in ("-h", "--help"):
            opts["help"] = True
            i += 1
        else:
            break
    return opts, argv[i:]


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    opts, rest = _split_globals(argv)
    if opts.get("version"):
        from dockyard import __version__
        print(f"dockyard version {__version__}")
        return 0
    if not rest or opts.get("help"):
        print(_usage())
        return 0 if opts.get("help") or not rest else 1
    verb = ALIASES.get(rest[0], rest[0])
    if verb not in COMMANDS:
        print(f"dockyard: '{rest[0]}' is not a dockyard command.\nSee 'dockyard --help'",
              file=sys.stderr)
        return 1
    mod = _module(COMMANDS[verb])
    parser = Parser(prog=f"dockyard {verb}", description=mod.HELP)
    mod.configure(parser)
    try:
        args = parser.parse_args(rest[1:])
    except SystemExit as e:  # --help (0) or a bad command line (docker's 125, or 1)
        return e.code
    return run_command(mod, args, opts)


def run_command(mod, args, opts: dict) -> int:
    from dockyard import errors
    from dockyard.client import Client
    client = Client(opts.get("host"))
    try:
        return mod.run(args, client) or 0
    except CommandError as e:
        if str(e):
            print(str(e), file=sys.stderr)
        return e.status
    except errors.DockyardError as e:
        if opts.get("debug") or getenv("DOCKYARD_DEBUG"):
            raise
        print(_error_text(e), file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0
    finally:
        client.close()


def _error_text(e) -> str:
    from dockyard import errors
    if isinstance(e, errors.Unavailable) and "Cannot connect" in str(e):
        return str(e)
    return f"Error response from daemon: {e}"


if __name__ == "__main__":
    sys.exit(main())
