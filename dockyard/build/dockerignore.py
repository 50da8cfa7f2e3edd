"""``.dockerignore`` patterns with Docker's rules (moby ``patternmatcher``).

- One pattern per line; ``#`` lines are comments; blank lines are ignored.
- Patterns are cleaned like Go's ``filepath.Clean`` and are relative to the context
  root (a leading ``/`` is dropped).
- ``*`` matches any run of non-separator characters, ``?`` one, ``[...]`` a class,
  ``**`` any number of directories (including none).
- ``!pattern`` re-includes what an earlier pattern excluded; the last match wins.
- A path is excluded if it or one of its parent directories matches.
"""
from __future__ import annotations

import posixpath
import re

from dockyard.errors import InvalidArgument


class Pattern:
    """One compiled pattern (a plain class: the CLI imports this module, and
    ``dataclasses`` alone costs it ~30 ms of start-up)."""

    __slots__ = ("text", "exclusion", "regex")

    def __init__(self, text: str, exclusion: bool, regex: re.Pattern):
        self.text, self.exclusion, self.regex = text, exclusion, regex


def read_patterns(text: str) -> list[str]:
    """The pattern lines of a .dockerignore file."""
    out = []
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        neg = line.startswith("!")
        body = line[1:].strip() if neg else line
        body = posixpath.normpath(body).lstrip("/") if body else body
        if body in ("", "."):
            body = "." if not neg else body
        out.append(("!" if neg else "") + body)
    return out


def _compile(pattern: str) -> re.Pattern:
    out, i, n = ["^"], 0, len(pattern)
    while i < n:
        ch = pattern[i]
        if ch == "*":
            if pattern.startswith("**", i):
                i += 2
                if i < n and pattern[i] == "/":
                    out.append("(?:.*/)?")
                    i += 1
                else:
                    out.append(".*")
                continue
            out.append("[^/]*")
        elif ch == "?":
            out.append("[^/]")
        elif ch == "[":
            end = pattern.find("]", i + 1)
            if end < 0:
                raise InvalidArgument(f".dockerignore: syntax error in pattern {pattern!r}: unclosed [")
            cls = pattern[i + 1:end]
            if cls.startswith(("!", "^")):
                cls = "^" + cls[1:]
            out.append("[" + cls.replace("\\", "\\\\") + "]")
            i = end
        elif ch == "\\" and i + 1 < n:
            i += 1
            out.append(re.escape(pattern[i]))
        else:
            out.append(re.escape(ch))
        i += 1
    out.append("$")
    return re.compile("".join(out))


class Matcher:
    """Decides whether a context-relative path is excluded."""

    def __init__(self, patterns: list[str]):
        self.patterns = []
        for p in patterns:
            neg = p.startswith("!")
            body = p[1:] if neg else p
            self.patterns.append(Pattern(p, neg, _compile(body)))
        self.has_exclusions = any(p.exclusion for p in self.patterns)

    def __bool__(self) -> bool:
        return bool(self.patterns)

    def excluded(self, path: str) -> bool:
        """True if ``path`` (relative, '/'-separated) is ignored."""
        path = posixpath.normpath(path).lstrip("/")
        parents = _parents(path)
        matched = False
        for p in self.patterns:
            if p.exclusion != matched:
                continue  # only a pattern that could flip the answer matters
            if p.regex.match(path) or any(p.regex.match(d) for d in parents):
                matched = not p.exclusion
        return matched

    def may_include_below(self, dirpath: str) -> bool:
        """False when nothing under excluded ``dirpath`` can be re-included (skip walking it)."""
        if not self.has_exclusions:
            return False
        prefix = dirpath.rstrip("/") + "/"
        for p in self.patterns:
            if p.exclusion and (p.text[1:].startswith(prefix) or "*" in p.text or "?" in p.text
                                or "[" in p.text):
                return True
        return False


def _parents(path: str) -> list[str]:
    parts = path.split("/")
    return ["/".join(parts[:i]) for i in range(1, len(parts))]


def load(context_dir: str) -> Matcher:
    """The matcher for ``context_dir/.dockerignore`` (empty when there is none)."""
    try:
        with open(posixpath.join(context_dir, ".dockerignore"), encoding="utf-8") as f:
            return Matcher(read_patterns(f.read()))
    except FileNotFoundError:
        return Matcher([])
