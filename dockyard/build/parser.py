"""Dockerfile parser: text → ``Node`` per instruction, following Docker's reference.

Rules (docs.docker.com/reference/dockerfile):
- Parser directives (``# escape=``, ``# syntax=``, ``# check=``) only at the very top,
  before any comment, blank line or instruction; ``syntax``/``check`` are accepted and
  ignored (a note is returned in ``Dockerfile.notes``).
- A line whose first non-blank character is ``#`` is a comment, also inside a
  continued instruction; blank lines inside a continuation are skipped.
- The escape character (default ``\\``) at the end of a line continues the instruction.
- Heredocs (``RUN <<EOF``, ``<<-EOF``, ``<<"EOF"``) for RUN, COPY and ADD.
- Docker does not allow comments at the end of an instruction line: ``FROM node # base``
  passes ``#`` and the rest as arguments and fails later in confusing ways. dockyard
  refuses such lines with one error per line (see ``inline_comment``).

All errors are collected and raised together as one ``DockerfileError``, each line of
its message in the form ``Dockerfile:3: what is wrong``.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

from dockyard.errors import InvalidArgument

DIRECTIVE_RE = re.compile(r"^#\s*([a-zA-Z][a-zA-Z0-9]*)\s*=\s*(.+?)\s*$")
HEREDOC_RE = re.compile(r"<<(-?)\s*(['\"]?)([A-Za-z_][A-Za-z0-9_]*)\2")
HEREDOC_CMDS = {"run", "copy", "add"}


class DockerfileError(InvalidArgument):
    """One or more Dockerfile errors; ``errors`` holds one line per problem."""

    def __init__(self, errors: list[str]):
        self.errors = errors
        super().__init__("\n".join(errors))


@dataclass
class Heredoc:
    name: str
    content: str
    expand: bool  # unquoted delimiter: the content undergoes variable expansion
    chomp: bool   # <<- strips leading tabs


@dataclass
class Node:
    """One instruction as written: ``cmd`` lower-case, ``rest`` after the keyword."""

    cmd: str
    rest: str
    original: str
    line: int
    heredocs: list[Heredoc] = field(default_factory=list)


@dataclass
class Dockerfile:
    nodes: list[Node]
    escape: str = "\\"
    notes: list[str] = field(default_factory=list)
    name: str = "Dockerfile"


def parse(text: str, name: str = "Dockerfile") -> Dockerfile:
    """Parse Dockerfile ``text``; raise DockerfileError listing every bad line."""
    lines = text.replace("\r\n", "\n").split("\n")
    escape, notes, start = _directives(lines, name)
    errors: list[str] = []
    nodes: list[Node] = []
    i = start
    while i < len(lines):
        i, node = _next_instruction(lines, i, escape, name, errors)
        if node is not None:
            nodes.append(node)
    if errors:
        raise DockerfileError(errors)
    return Dockerfile(nodes, escape, notes, name)


def _directives(lines: list[str], name: str) -> tuple[str, list[str], int]:
    escape, notes, seen = "\\", [], set()
    for i, line in enumerate(lines):
        m = DIRECTIVE_RE.match(line.strip())
        if not m:
            return escape, notes, i
        key, value = m.group(1).lower(), m.group(2)
        if key in seen:
            raise DockerfileError([f"{name}:{i + 1}: only one {key} parser directive can be used"])
        seen.add(key)
        if key == "escape":
            if value not in ("\\", "`"):
                raise DockerfileError([f"{name}:{i + 1}: invalid escape token {value!r}: must be ` or \\"])
            escape = value
        elif key in ("syntax", "check"):
            notes.append(f"{name}:{i + 1}: parser directive '{key}={value}' accepted and ignored")
        else:  # an unknown directive is a plain comment and ends the directive block
            return escape, notes, i
    return escape, notes, len(lines)


def _is_comment_or_blank(line: str) -> bool:
    s = line.strip()
    return not s or s.startswith("#")


def _continues(line: str, escape: str) -> tuple[bool, str]:
    """Docker's rule: the escape character, then only blanks, ends the line."""
    s = line.rstrip(" \t")
    if s.endswith(escape):
        return True, s[:-1]
    return False, line


def _next_instruction(lines, i, escape, name, errors):
    """Read one logical instruction starting at line index ``i``."""
    if _is_comment_or_blank(lines[i]):
        return i + 1, None
    first = i
    parts: list[str] = []
    while i < len(lines):
        line = lines[i]
        i += 1
        if parts and _is_comment_or_blank(line):
            continue  # comments and blank lines inside a continuation are dropped
        more, text = _continues(line, escape)
        parts.append(text)
        if not more:
            break
    logical = "".join(parts).strip()
    node = _make_node(logical, first + 1, name, escape, errors)
    if node and node.cmd in HEREDOC_CMDS:
        i = _read_heredocs(node, lines, i, name, errors)
    return i, node


def _make_node(logical: str, line: int, name: str, escape: str, errors: list[str]) -> Node | None:
    word, _, rest = logical.partition(" ")
    if "\t" in word:
        word, _, tail = word.partition("\t")
        rest = tail + " " + rest
    cmd = word.lower()
    rest = rest.strip()
    comment = inline_comment(cmd, rest, escape)
    if comment:
        errors.append(f"{name}:{line}: inline comment {comment!r} after {word.upper()}: "
                      f"comments must start the line (move it to its own line starting with #)")
        return None
    return Node(cmd, rest, logical, line)


def inline_comment(cmd: str, rest: str, escape: str = "\\") -> str:
    """The ``# ...`` text trailing an instruction, or "" if there is none.

    A ``#`` counts when it follows whitespace outside quotes. This holds for shell-form
    RUN/CMD too: a shell would skip the text there, but it would still be baked into
    the image's history and Cmd, and the reader of the Dockerfile meant a comment.
    """
    quote, prev = "", " "
    i = 0
    while i < len(rest):
        ch = rest[i]
        if ch == escape and quote != "'":
            i, prev = i + 2, "x"
            continue
        if quote:
            quote = "" if ch == quote else quote
        elif ch in "'\"":
            quote = ch
        elif ch == "#" and prev in " \t" and i > 0:
            return rest[i:].strip()
        prev = ch
        i += 1
    return ""


def _strip_flags(rest: str) -> str:
    while rest.startswith("--"):
        _, _, rest = rest.partition(" ")
        rest = rest.lstrip()
    return rest


def _looks_json(rest: str) -> bool:
    """An attempt at JSON form: ``[`` followed by a quote or ``]`` (``[ -f x ]`` is shell)."""
    s = rest.strip()
    return s.startswith("[") and s[1:].lstrip()[:1] in ('"', "'", "]")


def _read_heredocs(node: Node, lines: list[str], i: int, name: str, errors: list[str]) -> int:
    for m in HEREDOC_RE.finditer(_strip_flags(node.rest)):
        chomp, quote, delim = m.group(1) == "-", m.group(2), m.group(3)
        body: list[str] = []
        while i < len(lines):
            line = lines[i]
            i += 1
            if (line.lstrip("\t") if chomp else line) == delim:
                break
            body.append(line.lstrip("\t") if chomp else line)
        else:
            errors.append(f"{name}:{node.line}: heredoc <<{delim} is not terminated by a line '{delim}'")
            return i
        node.heredocs.append(Heredoc(delim, "\n".join(body) + "\n", not quote, chomp))
    return i


def parse_json_list(rest: str) -> list[str] | None:
    """The exec (JSON) form as a list of strings; None if ``rest`` is shell form.

    Raises InvalidArgument when it is plainly meant as JSON but is not valid JSON
    (Docker silently runs such text through a shell, which is never what was meant).
    """
    if not _looks_json(rest):
        return None
    try:
        value = json.loads(rest)
    except ValueError as e:
        hint = " (JSON needs double quotes)" if "'" in rest else ""
        raise InvalidArgument(f"invalid JSON form {rest}: {e.msg}{hint}") from None
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise InvalidArgument(f"invalid JSON form {rest}: expected a list of strings")
    return value


def split_flags(rest: str) -> tuple[dict[str, str], str]:
    """Leading ``--name=value`` / ``--name`` flags and the remaining text."""
    flags: dict[str, str] = {}
    while rest.startswith("--"):
        word, _, tail = rest.partition(" ")
        key, eq, value = word[2:].partition("=")
        if not key:
            break
        flags[key.lower()] = value if eq else "true"
        rest = tail.lstrip()
    return flags, rest
