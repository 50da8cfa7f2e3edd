"""Drawing docker's JSON progress messages (pull, push, build's FROM pulls).

On a terminal each layer id owns one line that is redrawn in place::

    c49f83e0b13e: Downloading [=========>                     ]  6.079MB/18.54MB

Elsewhere (a pipe, a log) the byte-progress messages are skipped and every other
status is one plain line, so logs stay short and readable.
"""
from __future__ import annotations

import sys

TYPE_CHECKING = False  # typing costs milliseconds of every pull/push/build start-up
if TYPE_CHECKING:
    from typing import Iterable, TextIO

_UNITS = ("B", "kB", "MB", "GB", "TB")


class StreamError(Exception):
    """An error message that arrived inside the stream."""


def _human(n: float) -> str:
    i = 0
    while n >= 1000 and i < len(_UNITS) - 1:
        n /= 1000.0
        i += 1
    return f"{n:.4g}{_UNITS[i]}"


def progress_text(msg: dict) -> str:
    """The progress part of a message: the server's bar, or one drawn from the detail."""
    if msg.get("progress"):
        return msg["progress"]
    d = msg.get("progressDetail") or {}
    cur, total = d.get("current") or 0, d.get("total") or 0
    if total > 0:
        filled = min(int(cur * 100 / total) // 2, 50)
        return f"[{'=' * filled}>{' ' * (50 - filled)}] {_human(cur):>8}/{_human(total)}"
    return f"{_human(cur):>8}" if cur else ""


def line_of(msg: dict) -> str:
    """One message as docker prints it: ``id: status progress``."""
    if "stream" in msg:
        return msg["stream"].rstrip("\n")
    text = msg.get("status", "")
    prog = progress_text(msg)
    if prog:
        text += " " + prog
    return f"{msg['id']}: {text}" if msg.get("id") else text


class Renderer:
    """Feeds messages to ``out``; on a TTY, lines with an id are updated in place."""

    def __init__(self, out: TextIO | None = None, tty: bool | None = None):
        self.out = out or sys.stdout
        self.tty = self.out.isatty() if tty is None else tty
        self.ids: dict[str, int] = {}
        self.lines = 0

    def feed(self, msg: dict) -> None:
        if msg.get("error") or msg.get("errorDetail"):
            raise StreamError(msg.get("error") or msg["errorDetail"].get("message", "error"))
        if "aux" in msg and "status" not in msg:
            return
        ident = msg.get("id")
        if not self.tty:
            if not (msg.get("progressDetail") or {}).get("current"):
                self._newline(line_of(msg))
            return
        if ident and ident in self.ids:
            up = self.lines - self.ids[ident]
            self.out.write(f"\x1b[{up}A\r\x1b[2K{line_of(msg)}\x1b[{up}B\r")
        else:
            if ident:
                self.ids[ident] = self.lines
            self._newline(line_of(msg))
        self.out.flush()

    def _newline(self, text: str) -> None:
        self.out.write(text + "\n")
        self.lines += 1


def render(messages: Iterable[dict], out: TextIO | None = None, tty: bool | None = None,
           quiet: bool = False) -> list[dict]:
    """Draw a whole stream; return its ``aux`` payloads. Raises StreamError on an error."""
    r = Renderer(out, tty)
    aux = []
    for msg in messages:
        if "aux" in msg:
            aux.append(msg["aux"])
        if quiet:
            if msg.get("error") or msg.get("errorDetail"):
                r.feed(msg)
            continue
        r.feed(msg)
    return aux
