"""Variable substitution and word splitting, following Docker's Dockerfile rules.

Docker (moby/buildkit ``shell/lex.go``) expands ``$VAR``, ``${VAR}`` and the
modifiers ``${VAR:-word}``, ``${VAR-word}``, ``${VAR:+word}``, ``${VAR+word}``,
``${VAR:?msg}``, ``${VAR?msg}`` in the instructions that take environment
replacement (ADD COPY ENV EXPOSE FROM LABEL STOPSIGNAL USER VOLUME WORKDIR ARG
ONBUILD's arguments are *not* expanded). Quoting works like a simplified shell:
single quotes are literal, double quotes allow ``$`` expansion and escaping of
``"``, ``$`` and the escape character, and outside quotes the escape character
takes the next character literally. Quotes are removed from the result.

``expand_words`` additionally splits on unquoted whitespace, including
whitespace that comes out of an unquoted variable (as Docker's ProcessWords).
"""
from __future__ import annotations

from typing import Mapping

from dockyard.errors import InvalidArgument

_NAME_START = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_")
_NAME_CHARS = _NAME_START | set("0123456789")
_SPECIAL = set("0123456789*@#?$!-")


class _Lexer:
    """One pass over a word; collects words (split mode) or one string."""

    def __init__(self, text: str, env: Mapping[str, str], escape: str, split: bool):
        self.text, self.env, self.esc, self.split = text, env, escape, split
        self.pos = 0
        self.words: list[str] = []
        self.cur: list[str] = []
        self.in_word = False  # a quoted empty string still makes a word

    def peek(self) -> str:
        return self.text[self.pos] if self.pos < len(self.text) else ""

    def take(self) -> str:
        ch = self.peek()
        self.pos += 1
        return ch

    def add(self, s: str, quoted: bool) -> None:
        """Append text; unquoted text is split on whitespace in split mode."""
        if not self.split or quoted:
            self.cur.append(s)
            self.in_word = True
            return
        for ch in s:
            if ch in " \t\r\n":
                self.flush()
            else:
                self.cur.append(ch)
                self.in_word = True

    def flush(self) -> None:
        if self.in_word:
            self.words.append("".join(self.cur))
        self.cur, self.in_word = [], False

    def run(self, stop: str = "") -> str:
        """Process until ``stop`` (used for modifier words) or the end."""
        while self.pos < len(self.text):
            ch = self.peek()
            if stop and ch == stop:
                break
            if ch == "'":
                self.pos += 1
                self.add(self.single_quoted(), True)
            elif ch == '"':
                self.pos += 1
                self.add(self.double_quoted(), True)
            elif ch == "$":
                self.pos += 1
                self.add(self.dollar(), False)
            elif ch == self.esc:
                self.pos += 1
                nxt = self.take()
                self.add(nxt if nxt else self.esc, True)
            else:
                self.pos += 1
                self.add(ch, False)
        return "".join(self.cur)

    def single_quoted(self) -> str:
        end = self.text.find("'", self.pos)
        if end < 0:
            raise InvalidArgument(f"unexpected end of statement while looking for matching single-quote in {self.text!r}")
        out, self.pos = self.text[self.pos:end], end + 1
        return out

    def double_quoted(self) -> str:
        out: list[str] = []
        while True:
            ch = self.take()
            if ch == "":
                raise InvalidArgument(f"unexpected end of statement while looking for matching double-quote in {self.text!r}")
            if ch == '"':
                return "".join(out)
            if ch == "$":
                out.append(self.dollar())
            elif ch == self.esc and self.peek() in ('"', "$", self.esc):
                out.append(self.take())
            else:
                out.append(ch)

    def dollar(self) -> str:
        """Expand after a ``$``: ``$NAME``, ``${NAME}``, ``${NAME<mod>word}``."""
        ch = self.peek()
        if ch == "{":
            self.pos += 1
            return self.braced()
        if ch in _NAME_START:
            return self.env.get(self.name(), "")
        if ch and ch in _SPECIAL:  # $1, $@ ...: no positional params in a Dockerfile
            self.pos += 1
            return ""
        return "$"

    def name(self) -> str:
        start = self.pos
        while self.peek() and self.peek() in _NAME_CHARS:
            self.pos += 1
        return self.text[start:self.pos]

    def braced(self) -> str:
        name = self.name()
        if not name and self.peek() and self.peek() in _SPECIAL:
            name = self.take()
        if not name:
            raise InvalidArgument(f"missing variable name in {self.text!r}")
        ch = self.take()
        if ch == "}":
            return self.env.get(name, "")
        if ch == "":
            raise InvalidArgument(f"missing '}}' in substitution {self.text!r}")
        mod = ch
        if ch == ":":
            mod += self.take()
        if mod not in (":-", "-", ":+", "+", ":?", "?"):
            raise InvalidArgument(f"unsupported modifier ({mod}) in substitution {self.text!r}")
        word = self.sub_word()
        return self.apply(name, mod, word)

    def sub_word(self) -> str:
        sub = _Lexer(self.text, self.env, self.esc, False)
        sub.pos = self.pos
        word = sub.run(stop="}")
        if sub.take() != "}":
            raise InvalidArgument(f"missing '}}' in substitution {self.text!r}")
        self.pos = sub.pos
        return word

    def apply(self, name: str, mod: str, word: str) -> str:
        value = self.env.get(name)
        is_set = value is not None
        if mod.startswith(":"):
            is_set = bool(value)
        if mod[-1] == "-":
            return value if is_set else word
        if mod[-1] == "+":
            return word if is_set else ""
        if not is_set:  # ? and :?
            raise InvalidArgument(f"{name}: {word or 'is not allowed to be unset'}")
        return value


def expand(word: str, env: Mapping[str, str], escape: str = "\\") -> str:
    """Substitute variables in ``word`` and remove quotes (Docker's ProcessWord)."""
    return _Lexer(word, env, escape, False).run()


def expand_words(text: str, env: Mapping[str, str], escape: str = "\\") -> list[str]:
    """Substitute and split into words on unquoted whitespace (Docker's ProcessWords)."""
    lex = _Lexer(text, env, escape, True)
    lex.run()
    lex.flush()
    return lex.words


def split_unquoted(text: str, escape: str = "\\") -> list[str]:
    """Split on whitespace outside quotes, keeping quotes and escapes (no expansion)."""
    words: list[str] = []
    cur: list[str] = []
    quote = ""
    i = 0
    while i < len(text):
        ch = text[i]
        if ch == escape and i + 1 < len(text) and quote != "'":
            cur.append(text[i:i + 2])
            i += 2
            continue
        if quote:
            quote = "" if ch == quote else quote
        elif ch in "'\"":
            quote = ch
        elif ch in " \t\r\n":
            if cur:
                words.append("".join(cur))
            cur = []
            i += 1
            continue
        cur.append(ch)
        i += 1
    if cur:
        words.append("".join(cur))
    return words
