"""Typed Dockerfile instructions and stages, built from parser nodes.

``parse_stages(dockerfile)`` checks every instruction's syntax (not its meaning in a
build: stage references and files are checked while building) and groups them
into stages. Arguments stay unexpanded: variable substitution depends on the build
state and happens in the dispatcher.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from dockyard.build import parser as P
from dockyard.build.shell_lex import split_unquoted
from dockyard.errors import InvalidArgument

ARG_NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
DURATION_RE = re.compile(r"^(\d+(\.\d+)?(ns|us|µs|ms|s|m|h))+$")


@dataclass
class Instruction:
    cmd: str
    line: int
    original: str


@dataclass
class From(Instruction):
    image: str = ""
    name: str = ""
    platform: str = ""


@dataclass
class Command(Instruction):
    """RUN, CMD, ENTRYPOINT: exec form (``argv``) or shell form (``shell``)."""

    argv: list[str] | None = None
    shell: str = ""
    heredocs: list[P.Heredoc] = field(default_factory=list)
    flags: dict[str, str] = field(default_factory=dict)


@dataclass
class KeyValues(Instruction):
    """ENV and LABEL: ``pairs`` of unexpanded (key, value) words."""

    pairs: list[tuple[str, str]] = field(default_factory=list)


@dataclass
class Words(Instruction):
    """EXPOSE, VOLUME, USER, WORKDIR, STOPSIGNAL, MAINTAINER, SHELL: unexpanded words."""

    words: list[str] = field(default_factory=list)
    json: bool = False


@dataclass
class Copy(Instruction):
    """COPY and ADD."""

    sources: list[str] = field(default_factory=list)
    dest: str = ""
    flags: dict[str, str] = field(default_factory=dict)
    heredocs: list[P.Heredoc] = field(default_factory=list)


@dataclass
class Arg(Instruction):
    args: list[tuple[str, str | None]] = field(default_factory=list)


@dataclass
class Onbuild(Instruction):
    trigger: str = ""


@dataclass
class Healthcheck(Instruction):
    test: list[str] = field(default_factory=list)
    options: dict[str, str] = field(default_factory=dict)


@dataclass
class Stage:
    base: From
    instructions: list[Instruction] = field(default_factory=list)

    @property
    def name(self) -> str:
        return self.base.name


def parse_stages(df: P.Dockerfile) -> tuple[list[Arg], list[Stage]]:
    """Typed stages plus the ARGs before the first FROM; errors name file:line."""
    errors: list[str] = []
    meta_args: list[Arg] = []
    stages: list[Stage] = []
    for node in df.nodes:
        try:
            ins = from_node(node, df.escape)
        except InvalidArgument as e:
            errors.append(f"{df.name}:{node.line}: {e}")
            continue
        if isinstance(ins, From):
            stages.append(Stage(ins))
        elif stages:
            stages[-1].instructions.append(ins)
        elif isinstance(ins, Arg):
            meta_args.append(ins)
        else:
            errors.append(f"{df.name}:{node.line}: {node.cmd.upper()} before the first FROM "
                          f"(only ARG may come before FROM)")
    if not stages and not errors:
        errors.append(f"{df.name}: no FROM instruction: a Dockerfile must start a stage with FROM")
    _check_stage_names(stages, df.name, errors)
    if errors:
        raise P.DockerfileError(errors)
    return meta_args, stages


def _check_stage_names(stages: list[Stage], name: str, errors: list[str]) -> None:
    seen: set[str] = set()
    for st in stages:
        if st.name and st.name in seen:
            errors.append(f"{name}:{st.base.line}: duplicate stage name {st.name!r}")
        seen.add(st.name)


def from_node(node: P.Node, escape: str = "\\") -> Instruction:
    """The typed instruction for ``node``; raise InvalidArgument on bad syntax."""
    handler = PARSERS.get(node.cmd)
    if handler is None:
        raise InvalidArgument(f"unknown instruction: {node.cmd.upper()}")
    return handler(node, escape)


def _flags(node: P.Node, allowed: set[str]) -> tuple[dict[str, str], str]:
    flags, rest = P.split_flags(node.rest)
    for key in flags:
        if key not in allowed:
            raise InvalidArgument(f"unknown flag --{key} for {node.cmd.upper()}")
    return flags, rest


def _from(node: P.Node, esc: str) -> From:
    flags, rest = _flags(node, {"platform"})
    words = rest.split()
    if len(words) == 3 and words[1].lower() == "as" and words[2]:
        if not re.match(r"^[a-zA-Z][a-zA-Z0-9_.-]*$", words[2]):
            raise InvalidArgument(f"invalid stage name {words[2]!r}: use letters, digits, '_', '.', '-'")
        return From(node.cmd, node.line, node.original, words[0], words[2].lower(), flags.get("platform", ""))
    if len(words) != 1:
        raise InvalidArgument("FROM requires either one argument, or three: FROM <image> AS <name>")
    return From(node.cmd, node.line, node.original, words[0], "", flags.get("platform", ""))


def _command(node: P.Node, esc: str) -> Command:
    allowed = {"network", "mount", "security"} if node.cmd == "run" else set()
    flags, rest = _flags(node, allowed)
    for flag in ("mount", "security"):
        if flag in flags:
            raise InvalidArgument(f"RUN --{flag} needs BuildKit, which dockyard's classic builder does not implement")
    if flags.get("network", "default") not in ("default", "none", "host"):
        raise InvalidArgument(f"RUN --network={flags['network']}: want default, none or host")
    if not rest and not node.heredocs:
        raise InvalidArgument(f"{node.cmd.upper()} requires at least one argument")
    argv = P.parse_json_list(rest)
    return Command(node.cmd, node.line, node.original, argv, "" if argv is not None else rest,
                   node.heredocs, flags)


def _key_values(node: P.Node, esc: str) -> KeyValues:
    words = split_unquoted(node.rest, esc)
    what = node.cmd.upper()
    if not words:
        raise InvalidArgument(f"{what} requires at least one argument")
    if "=" not in words[0]:  # legacy form: ENV key value
        if len(words) < 2:
            raise InvalidArgument(f"{what} {words[0]} needs a value: {what} key=value")
        key, _, value = node.rest.strip().partition(" ")
        return KeyValues(node.cmd, node.line, node.original, [(key, value.strip())])
    pairs = []
    for w in words:
        key, eq, value = w.partition("=")
        if not eq or not key:
            raise InvalidArgument(f"{what} syntax is key=value; got {w!r}")
        pairs.append((key, value))
    return KeyValues(node.cmd, node.line, node.original, pairs)


def _words(node: P.Node, esc: str) -> Words:
    what = node.cmd.upper()
    argv = P.parse_json_list(node.rest)
    if node.cmd == "shell" and argv is None:
        raise InvalidArgument('SHELL requires the JSON form: SHELL ["executable", "parameters"]')
    words = argv if argv is not None else split_unquoted(node.rest, esc)
    single = {"user", "workdir", "stopsignal"}
    if not words:
        raise InvalidArgument(f"{what} requires at least one argument")
    if node.cmd in single and len(words) != 1:
        if node.cmd == "workdir":  # WORKDIR takes the rest of the line as one path
            words = [node.rest.strip()]
        else:
            raise InvalidArgument(f"{what} requires exactly one argument")
    if node.cmd == "maintainer":
        words = [node.rest.strip()]
    return Words(node.cmd, node.line, node.original, words, argv is not None)


def _copy(node: P.Node, esc: str) -> Copy:
    # --link only changes how BuildKit stores the layer: accepted, same result here.
    allowed = {"chown", "chmod", "link", "from"} if node.cmd == "copy" \
        else {"chown", "chmod", "link", "checksum"}
    flags, rest = _flags(node, allowed)
    argv = P.parse_json_list(rest)
    words = argv if argv is not None else split_unquoted(rest, esc)
    if node.heredocs:
        words = [w for w in words if not w.startswith("<<")]
        if not words:
            raise InvalidArgument(f"{node.cmd.upper()} with a heredoc needs a destination")
        return Copy(node.cmd, node.line, node.original, [], words[-1], flags, node.heredocs)
    if len(words) < 2:
        raise InvalidArgument(f"{node.cmd.upper()} requires at least two arguments: source(s) and destination")
    if "chmod" in flags and not re.match(r"^[0-7]{3,4}$", flags["chmod"]):
        raise InvalidArgument(f"invalid --chmod={flags['chmod']}: want an octal mode like 755")
    return Copy(node.cmd, node.line, node.original, words[:-1], words[-1], flags)


def _arg(node: P.Node, esc: str) -> Arg:
    words = split_unquoted(node.rest, esc)
    if not words:
        raise InvalidArgument("ARG requires at least one argument: ARG name[=default]")
    args = []
    for w in words:
        name, eq, default = w.partition("=")
        if not ARG_NAME_RE.match(name):
            raise InvalidArgument(f"invalid ARG {w!r}: want ARG name[=default], name of letters, digits and _")
        args.append((name, default if eq else None))
    return Arg(node.cmd, node.line, node.original, args)


def _onbuild(node: P.Node, esc: str) -> Onbuild:
    word = node.rest.split(None, 1)[0].lower() if node.rest.strip() else ""
    if not word:
        raise InvalidArgument("ONBUILD requires an instruction")
    if word in ("onbuild", "from", "maintainer"):
        raise InvalidArgument(f"{word.upper()} isn't allowed as an ONBUILD trigger")
    if word not in PARSERS:
        raise InvalidArgument(f"unknown instruction in ONBUILD: {word.upper()}")
    return Onbuild(node.cmd, node.line, node.original, node.rest.strip())


def _healthcheck(node: P.Node, esc: str) -> Healthcheck:
    flags, rest = _flags(node, {"interval", "timeout", "start-period", "start-interval", "retries"})
    for key, value in flags.items():
        ok = value.isdigit() if key == "retries" else bool(DURATION_RE.match(value))
        if not ok:
            raise InvalidArgument(f"invalid --{key}={value} for HEALTHCHECK")
    word, _, cmd_rest = rest.partition(" ")
    if word.upper() == "NONE" and not cmd_rest.strip():
        return Healthcheck(node.cmd, node.line, node.original, ["NONE"], flags)
    if word.upper() != "CMD" or not cmd_rest.strip():
        raise InvalidArgument("HEALTHCHECK wants NONE or [OPTIONS] CMD command")
    argv = P.parse_json_list(cmd_rest.strip())
    test = ["CMD"] + argv if argv is not None else ["CMD-SHELL", cmd_rest.strip()]
    return Healthcheck(node.cmd, node.line, node.original, test, flags)


PARSERS = {
    "from": _from, "run": _command, "cmd": _command, "entrypoint": _command,
    "env": _key_values, "label": _key_values,
    "expose": _words, "volume": _words, "user": _words, "workdir": _words,
    "stopsignal": _words, "maintainer": _words, "shell": _words,
    "copy": _copy, "add": _copy, "arg": _arg, "onbuild": _onbuild,
    "healthcheck": _healthcheck,
}
