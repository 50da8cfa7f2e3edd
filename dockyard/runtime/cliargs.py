"""A small table-driven argument parser for the runtime CLI.

argparse costs ~8 ms to import and build for every verb on each call, which is
a sixth of a whole ``run``. The verbs' flags are few and simple, so they are
declared as tables and parsed here (``--flag``, ``--flag=v``, ``--flag v``,
``-f``, repeated flags, ``--`` ending options).
"""
from __future__ import annotations

from dockyard.errors import InvalidArgument

# kinds: "bool" (no value), "str", "int", "list" (repeatable str), "ilist" (repeatable int)
GLOBAL = [
    (("--root",), "root", "str", "/run/dockyard-runtime"),
    (("--log",), "log", "str", None),
    (("--log-format",), "log_format", "str", "text"),
    (("--debug",), "debug", "bool", False),
    (("--systemd-cgroup",), "systemd_cgroup", "bool", False),
    (("--criu",), "criu", "str", None),
    (("--rootless",), "rootless", "str", None),
    (("--help", "-h"), "help", "bool", False),
    (("--version", "-v"), "version", "bool", False),
]


class Namespace:
    """Parsed arguments as attributes."""

    def __init__(self, **kw):
        self.__dict__.update(kw)


def _index(options) -> dict[str, tuple]:
    return {name: opt for opt in options for name in opt[0]}


def parse(argv: list[str], options, positionals, ns: Namespace | None = None,
          stop_at_positional: bool = False) -> tuple[Namespace, list[str]]:
    """Parse ``argv``; returns the namespace and the arguments left unparsed.

    ``positionals`` is a list of (dest, required); a final ``("*", dest)`` takes
    the rest (a ``--`` among them is dropped). With ``stop_at_positional`` the
    positionals are returned unparsed (the verb and its arguments, for the
    global options).
    """
    ns = ns or Namespace()
    for _, dest, kind, default in options:
        setattr(ns, dest, list(default or []) if kind in ("list", "ilist") else default)
    table, args, rest = _index(options), list(argv), []
    while args:
        arg = args.pop(0)
        if arg == "--":
            rest = args
            break
        if not arg.startswith("-") or arg == "-":
            # like Go's flag package (runc's CLI): flags end at the first positional
            rest = [arg] + args
            break
        name, eq, value = arg.partition("=")
        opt = table.get(name)
        if opt is None:
            raise InvalidArgument(f"flag provided but not defined: {name}")
        _, dest, kind, _ = opt
        if kind == "bool":
            setattr(ns, dest, True)
            continue
        if not eq:
            if not args:
                raise InvalidArgument(f"flag needs an argument: {name}")
            value = args.pop(0)
        _store(ns, dest, kind, value, name)
    if stop_at_positional:
        return ns, rest
    return _positionals(ns, positionals, rest), []


def _store(ns: Namespace, dest: str, kind: str, value: str, name: str) -> None:
    if kind in ("int", "ilist"):
        try:
            value = int(value)
        except ValueError:
            raise InvalidArgument(f"invalid value {value!r} for flag {name}") from None
    if kind in ("list", "ilist"):
        getattr(ns, dest).append(value)
    else:
        setattr(ns, dest, value)


def _positionals(ns: Namespace, positionals, rest: list[str]) -> Namespace:
    for dest, required in positionals:
        if dest == "*":
            setattr(ns, required, rest[1:] if rest[:1] == ["--"] else rest)
            rest = []
            break
        if not rest:
            if required:
                raise InvalidArgument(f"missing argument: {dest.upper()}")
            setattr(ns, dest, None)
            continue
        setattr(ns, dest, rest.pop(0))
    if rest:
        raise InvalidArgument(f"unexpected arguments: {' '.join(rest)}")
    return ns
