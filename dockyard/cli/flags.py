"""The CLI's flag parser: the part of argparse the verbs' ``configure(p)`` use, parsed
the way docker's CLI (cobra/pflag) parses, and nothing but builtins imported.

``import argparse`` costs ~20 ms (it pulls in re, gettext, shutil, enum...) on every
``dockyard`` call, more than most requests take, so the verbs are configured against
this instead. The same ``configure(p)`` still works with a real ``argparse`` parser
(the unit tests of some verbs use one): only argparse's own API is used there.

Supported: ``add_argument(*names, action, nargs, type, default, dest, metavar, help,
choices, const, required)`` with the actions store, store_true, store_false,
store_const, append, append_const and count; nargs None, "?", "*", "+" and
:data:`REMAINDER`; ``set_defaults``; ``add_subparsers(dest, metavar, required)`` and
``add_parser(name, aliases, help)``. Parsing as docker does: ``-it`` (combined short
flags), ``-eK=V``/``-e K=V``, ``--name=x``/``--name x`` (a value is taken even when it
starts with ``-``), ``--rm=false`` for booleans, ``--`` ends the flags, flags anywhere
between positionals except after a REMAINDER positional has begun (``run IMAGE CMD...``).
Errors print docker's text and exit 125 for a bad flag, 1 for a wrong argument count;
``-h``/``--help`` prints docker-style help and exits 0. No abbreviations of long flags
(pflag has none).
"""

REMAINDER = "..."  # the same value as argparse.REMAINDER, so configure(p) works with both
SUPPRESS = "==SUPPRESS=="
_TRUE = ("1", "t", "T", "true", "TRUE", "True")
_FALSE = ("0", "f", "F", "false", "FALSE", "False")
_VALUED = ("store", "append")


class Namespace:
    """Parsed flags as attributes (argparse.Namespace's behaviour)."""

    def __init__(self, **kw):
        self.__dict__.update(kw)

    def __contains__(self, key) -> bool:
        return key in self.__dict__

    def __eq__(self, other) -> bool:
        return isinstance(other, Namespace) and vars(self) == vars(other)

    def __repr__(self) -> str:
        return "Namespace(" + ", ".join(f"{k}={v!r}" for k, v in sorted(vars(self).items())) + ")"


class ParseError(Exception):
    """A command line the parser rejects; ``status`` is the exit code docker uses."""

    def __init__(self, message: str, status: int = 125):
        super().__init__(message)
        self.status = status


class Action:
    __slots__ = ("names", "shorts", "longs", "dest", "action", "nargs", "type", "default",
                 "const", "choices", "metavar", "help", "required")

    def __init__(self, names, dest, action, nargs, type, default, const, choices, metavar,
                 help, required):
        self.names = list(names)
        self.shorts = [n for n in names if n.startswith("-") and not n.startswith("--")]
        self.longs = [n for n in names if n.startswith("--")]
        self.dest, self.action, self.nargs, self.type = dest, action, nargs, type
        self.default, self.const, self.choices = default, const, choices
        self.metavar, self.help, self.required = metavar, help, required

    @property
    def positional(self) -> bool:
        return not self.names

    def takes_value(self) -> bool:
        return self.action in _VALUED

    def label(self) -> str:
        """How docker names a flag in errors: ``-n, --last`` or ``--format``."""
        short = self.shorts[0] if self.shorts else None
        long = self.longs[0] if self.longs else None
        return f"{short}, {long}" if short and long else (long or short)

    def display(self) -> str:
        return self.metavar or self.dest.upper()


class _Subparsers:
    """What ``add_subparsers`` returns: ``add_parser(name, aliases=..., help=...)``."""

    def __init__(self, parent: "Parser", dest, metavar, required, help):
        self.parent, self.dest, self.metavar = parent, dest, metavar
        self.required, self.help = required, help
        self.choices: dict[str, Parser] = {}
        self.order: list[tuple[str, list[str], str]] = []

    def add_parser(self, name: str, aliases=(), help: str | None = None, **kw) -> "Parser":
        p = Parser(prog=f"{self.parent.prog} {name}", description=kw.get("description", help))
        for n in (name, *aliases):
            self.choices[n] = p
        self.order.append((name, list(aliases), help or ""))
        return p


class Parser:
    """An argparse.ArgumentParser look-alike with docker's command-line behaviour."""

    def __init__(self, prog: str = "dockyard", description: str | None = None, **_ignored):
        self.prog = prog
        self.description = description
        self.conflict_handler = "resolve"
        self._optionals = self  # add_options() sets p._optionals.conflict_handler
        self._actions: list[Action] = []
        self._by_name: dict[str, Action] = {}
        self._defaults: dict = {}
        self._sub: _Subparsers | None = None
        self.add_argument("-h", "--help", action="help", help="Print usage")

    # -- configuration (argparse's API) ---------------------------------
    def add_argument(self, *names, action: str = "store", nargs=None, type=None,
                     default=None, dest: str | None = None, metavar: str | None = None,
                     help: str | None = None, choices=None, const=None,
                     required: bool = False, **_ignored) -> Action:
        if names and names[0][:1] == "-":
            if dest is None:
                longs = [n for n in names if n.startswith("--")]
                dest = (longs[0] if longs else names[0]).lstrip("-").replace("-", "_")
            for n in names:  # later definitions win (argparse's "resolve")
                old = self._by_name.pop(n, None)
                if old is not None:
                    old.names.remove(n)
                    old.shorts = [x for x in old.shorts if x != n]
                    old.longs = [x for x in old.longs if x != n]
                    if not old.names:
                        self._actions.remove(old)
            if action == "store_true" and default is None:
                default = False
            elif action == "store_false" and default is None:
                default = True
            a = Action(names, dest, action, nargs, type, default, const, choices, metavar,
                       help, required)
            for n in names:
                self._by_name[n] = a
        else:
            if not names:
                raise TypeError("add_argument needs a name")
            a = Action((), dest or names[0], "store", nargs, type, default, const, choices,
                       metavar, help, nargs not in ("?", "*", REMAINDER))
            a.names = []
        self._actions.append(a)
        return a

    def set_defaults(self, **kw) -> None:
        self._defaults.update(kw)

    def add_subparsers(self, dest: str | None = None, metavar: str | None = None,
                       required: bool = False, help: str | None = None, **_ignored) -> _Subparsers:
        self._sub = _Subparsers(self, dest, metavar, required, help)
        return self._sub

    # -- parsing ---------------------------------------------------------
    def parse_args(self, argv=None, namespace: Namespace | None = None) -> Namespace:
        """Parse ``argv``; on an error or ``--help`` print what docker prints and exit."""
        import sys
        argv = sys.argv[1:] if argv is None else list(argv)
        try:
            return self.parse(argv, namespace)
        except _Help as h:
            sys.stdout.write(h.parser.format_help())
            raise SystemExit(0) from None
        except ParseError as e:
            sys.stderr.write(str(e) + "\n")
            raise SystemExit(e.status) from None

    def parse(self, argv: list[str], ns: Namespace | None = None) -> Namespace:
        """Parse ``argv`` into ``ns``; raises :class:`ParseError` (or _Help)."""
        ns = ns if ns is not None else Namespace()
        for k, v in self._defaults.items():  # set_defaults wins over an action's default
            if not hasattr(ns, k):
                setattr(ns, k, v)
        for a in self._actions:
            if a.positional or a.action == "help":
                continue
            if not hasattr(ns, a.dest):
                d = a.default
                if isinstance(d, str) and a.type is not None and a.takes_value():
                    d = self._convert(a, d, a.label())
                setattr(ns, a.dest, d)
        for a in self._actions:
            if a.positional and not hasattr(ns, a.dest):
                empty = a.nargs in ("*", REMAINDER) and a.default is None
                setattr(ns, a.dest, [] if empty else a.default)
        if self._sub is not None and self._sub.dest and not hasattr(ns, self._sub.dest):
            setattr(ns, self._sub.dest, None)

        positional_specs = [a for a in self._actions if a.positional]
        remainder_at = next((i for i, a in enumerate(positional_specs) if a.nargs == REMAINDER),
                            None)
        plain: list[str] = []   # positional words in order
        rest: list[str] | None = None  # a REMAINDER's words, or a sub-command's argv
        seen: set = set()
        i, n = 0, len(argv)
        while i < n:
            arg = argv[i]
            i += 1
            if arg == "--":
                plain.extend(argv[i:])
                break
            if arg[:1] != "-" or arg == "-" or _negative_number(arg):
                if self._sub is not None and not plain:
                    rest = [arg] + argv[i:]
                    break
                plain.append(arg)
                if remainder_at is not None and len(plain) >= remainder_at:
                    rest = argv[i:]
                    break
                continue
            if arg.startswith("--"):
                name, eq, value = arg.partition("=")
                a = self._by_name.get(name)
                if a is None:
                    raise self._flag_error(f"unknown flag: {name}")
                i = self._apply(a, name, value if eq else None, argv, i, ns)
                seen.add(a)
                continue
            # one or more short flags: -it, -e K=V, -eK=V, -n=5
            j = 1
            while j < len(arg):
                name = "-" + arg[j]
                a = self._by_name.get(name)
                if a is None:
                    raise self._flag_error(f"unknown shorthand flag: {arg[j]!r} in {arg}")
                tail = arg[j + 1:]
                if a.takes_value() or a.action == "help":
                    value = tail[1:] if tail.startswith("=") else (tail or None)  # -e= is ""
                    i = self._apply(a, name, value, argv, i, ns)
                    seen.add(a)
                    break
                if tail.startswith("="):  # -d=false
                    self._apply(a, name, tail[1:], argv, i, ns)
                    seen.add(a)
                    break
                self._apply(a, name, None, argv, i, ns)
                seen.add(a)
                j += 1

        for a in self._actions:
            if a.required and not a.positional and a not in seen:
                raise self._flag_error(f'required flag(s) "{a.longs[0] if a.longs else a.names[0]}" not set')
        self._assign_positionals(positional_specs, plain,
                                 rest if remainder_at is not None else None, ns)
        if self._sub is not None:
            if not rest:
                if self._sub.required:
                    raise _Help(self)
                return ns
            sub = self._sub.choices.get(rest[0])
            if sub is None:
                raise ParseError(f"{self.prog}: '{rest[0]}' is not a {self.prog} command.\n"
                                 f"See '{self.prog} --help'", 1)
            if self._sub.dest:
                setattr(ns, self._sub.dest, rest[0])
            return sub.parse(rest[1:], ns)
        return ns

    def _apply(self, a: Action, name: str, value: str | None, argv: list[str], i: int,
               ns: Namespace) -> int:
        """Perform ``a`` (reached as ``name``); returns the index of the next word."""
        act = a.action
        if act == "help":
            raise _Help(self)
        if act in ("store_true", "store_false"):
            if value is None:
                setattr(ns, a.dest, act == "store_true")
            elif value in _TRUE or value in _FALSE:
                setattr(ns, a.dest, (value in _TRUE) == (act == "store_true"))
            else:
                raise self._flag_error(f'invalid argument "{value}" for "{a.label()}" flag: '
                                       f'strconv.ParseBool: parsing "{value}": invalid syntax')
            return i
        if act in ("store_const", "append_const", "count"):
            if value is not None:
                raise self._flag_error(f"flag does not take a value: {name}")
            if act == "store_const":
                setattr(ns, a.dest, a.const)
            elif act == "append_const":
                setattr(ns, a.dest, list(getattr(ns, a.dest, None) or []) + [a.const])
            else:
                setattr(ns, a.dest, (getattr(ns, a.dest, None) or 0) + 1)
            return i
        if value is None:
            if a.nargs == "?":
                if i < len(argv) and (argv[i][:1] != "-" or argv[i] == "-"):
                    value, i = argv[i], i + 1
                else:
                    setattr(ns, a.dest, a.const)
                    return i
            elif i < len(argv):
                value, i = argv[i], i + 1
            else:
                what = name if name.startswith("--") else f"{name[1]!r} in {name}"
                raise self._flag_error(f"flag needs an argument: {what}")
        v = self._convert(a, value, a.label())
        if act == "append":
            setattr(ns, a.dest, list(getattr(ns, a.dest, None) or []) + [v])
        else:
            setattr(ns, a.dest, v)
        return i

    def _convert(self, a: Action, value: str, label: str):
        v = value
        if a.type is not None:
            try:
                v = a.type(value)
            except (TypeError, ValueError):
                why = (f'strconv.ParseInt: parsing "{value}": invalid syntax' if a.type is int
                       else f'invalid value "{value}"')
                raise self._flag_error(f'invalid argument "{value}" for "{label}" flag: {why}')
        if a.choices is not None and v not in a.choices:
            raise self._flag_error(f'invalid argument "{value}" for "{label}" flag: must be one '
                                   f"of: {', '.join(map(str, a.choices))}")
        return v

    def _assign_positionals(self, specs: list[Action], words: list[str],
                            remainder: list[str] | None, ns: Namespace) -> None:
        fixed = [s for s in specs if s.nargs != REMAINDER]
        lo = sum(1 for s in fixed if s.nargs in (None, "+")) + \
            sum(s.nargs if isinstance(s.nargs, int) else 0 for s in fixed)
        unbounded = any(s.nargs in ("*", "+") for s in fixed)
        hi = None if unbounded else sum(1 if s.nargs in (None, "?") else
                                        (s.nargs if isinstance(s.nargs, int) else 0)
                                        for s in fixed)
        if any(s.nargs == REMAINDER for s in specs):
            hi = None
        count = len(words)
        if count < lo or (hi is not None and count > hi):
            raise self._count_error(lo, hi)
        left = count
        pos = 0
        for idx, s in enumerate(specs):
            need_after = sum(1 if t.nargs in (None, "+") else
                             (t.nargs if isinstance(t.nargs, int) else 0)
                             for t in specs[idx + 1:] if t.nargs != REMAINDER)
            if s.nargs == REMAINDER:
                take = words[pos:]
                pos = count
                setattr(ns, s.dest, take + (remainder or []))
                continue
            if s.nargs is None:
                val = self._convert(s, words[pos], s.display())
                pos += 1
            elif isinstance(s.nargs, int):
                val = [self._convert(s, w, s.display()) for w in words[pos:pos + s.nargs]]
                pos += s.nargs
            elif s.nargs == "?":
                if left - need_after > 0:
                    val = self._convert(s, words[pos], s.display())
                    pos += 1
                else:
                    continue  # the default stays
            else:  # "*" or "+": as many as the later positionals leave
                take = max(0, count - pos - need_after)
                val = [self._convert(s, w, s.display()) for w in words[pos:pos + take]]
                pos += take
                if s.nargs == "*" and not val and s.default is not None:
                    val = s.default
            left = count - pos
            setattr(ns, s.dest, val)

    # -- errors and help -------------------------------------------------
    def usage(self) -> str:
        parts = [f"Usage:  {self.prog}"]
        if any(not a.positional and a.action != "help" for a in self._actions):
            parts.append("[OPTIONS]")
        if self._sub is not None:
            parts.append(self._sub.metavar or "COMMAND")
        for a in self._actions:
            if not a.positional:
                continue
            m = a.display()
            parts.append({None: m, "?": f"[{m}]", "*": f"[{m}...]", "+": f"{m} [{m}...]",
                          REMAINDER: f"[{m}] [ARG...]"}.get(a.nargs, m) if not
                         isinstance(a.nargs, int) else " ".join([m] * a.nargs))
        return " ".join(parts)

    def _flag_error(self, message: str) -> ParseError:
        return ParseError(f"{message}\n\n{self.usage()}\n\n"
                          f"Run '{self.prog} --help' for more information", 125)

    def _count_error(self, lo: int, hi: int | None) -> ParseError:
        def args(k: int) -> str:
            return f"{k} argument" + ("" if k == 1 else "s")
        if hi is None:
            need = f"requires at least {args(lo)}"
        elif lo == hi:
            need = f"requires {args(lo)}"
        elif lo == 0:
            need = f"requires at most {args(hi)}"
        else:
            need = f"requires at least {lo} and at most {args(hi)}"
        top = self.prog.split()[0]
        return ParseError(f"{top}: '{self.prog}' {need}\n\n{self.usage()}\n\n"
                          f"See '{self.prog} --help' for more information", 1)

    def error(self, message: str):
        """argparse's ``error``: print and exit (125, a usage error)."""
        import sys
        sys.stderr.write(self._flag_error(message).args[0] + "\n")
        raise SystemExit(125)

    def format_help(self) -> str:
        out = [self.usage(), ""]
        if self.description:
            out += [self.description, ""]
        if self._sub is not None and self._sub.order:
            out.append("Commands:")
            width = max([11] + [len(n) for n, _, _ in self._sub.order])  # cobra's padding
            for name, _aliases, h in sorted(self._sub.order):
                out.append(f"  {name.ljust(width)} {h}".rstrip())
            out.append("")
        opts = [a for a in self._actions if not a.positional and a.help != SUPPRESS
                and a.action != "help"]  # docker does not list -h/--help
        if opts:
            out.append("Options:")
            rows = []
            for a in sorted(opts, key=lambda a: (a.longs[0] if a.longs else a.names[0]).lstrip("-")):
                left = (f"{a.shorts[0]}, " if a.shorts else "    ") + \
                       (a.longs[0] if a.longs else "")
                if not a.longs:
                    left = left.rstrip(", ")
                if a.takes_value():
                    kind = "list" if a.action == "append" else \
                        "int" if a.type is int else "string"
                    left += f" {kind}"
                text = a.help or ""
                if a.takes_value() and a.default not in (None, "", [], False) and \
                        "(default" not in text:
                    text += f" (default {a.default})"
                rows.append((left, text))
            width = max(len(left) for left, _ in rows)
            for left, text in rows:
                out.append(f"  {left.ljust(width)}   {text}".rstrip())
            out.append("")
        if self._sub is not None:
            out.append(f"Run '{self.prog} COMMAND --help' for more information on a command.")
        return "\n".join(out).rstrip("\n") + "\n"

    def print_help(self, file=None) -> None:
        import sys
        (file or sys.stdout).write(self.format_help())


class _Help(Exception):
    def __init__(self, parser: Parser):
        super().__init__("help")
        self.parser = parser


def _negative_number(arg: str) -> bool:
    body = arg[1:]
    if not body:
        return False
    whole, dot, frac = body.partition(".")
    return (whole.isdigit() or (not whole and dot)) and (not dot or frac.isdigit())


# the name configure(p) annotations and old callers use
ArgumentParser = Parser
