"""Detach keys: docker's ``--detach-keys``/``detachKeys`` syntax and the scanner that
watches a TTY session's input for them. Used by the CLI (it detaches itself, as the
docker CLI does) and by the API's attach/exec relays (for clients that send the keys
through). Only builtins: the CLI imports it on its attach paths."""
from __future__ import annotations

DEFAULT = b"\x10\x11"  # ctrl-p ctrl-q, docker's
_CTRL = {"@": 0, "[": 27, "\\": 28, "]": 29, "^": 30, "_": 31}


def parse(spec: str | None) -> bytes:
    """Comma-separated ``a`` (one character) or ``ctrl-<x>`` (x in a-z @ [ \\ ] ^ _);
    None or "" → ctrl-p,ctrl-q.

    Raises:
        ValueError: ``Invalid detach keys (SPEC) provided``, docker's message.
    """
    if not spec:
        return DEFAULT
    out = bytearray()
    for key in spec.split(","):
        low = key.lower()
        if len(key) == 1:
            out.append(ord(key))
        elif low.startswith("ctrl-") and len(low) == 6 and "a" <= low[5] <= "z":
            out.append(ord(low[5]) - ord("a") + 1)
        elif low.startswith("ctrl-") and len(low) == 6 and low[5] in _CTRL:
            out.append(_CTRL[low[5]])
        else:
            raise ValueError(f"Invalid detach keys ({spec}) provided")
    if any(b > 0x7F for b in out):
        raise ValueError(f"Invalid detach keys ({spec}) provided")
    return bytes(out)


class Scanner:
    """Watches typed input for the detach sequence; every other byte passes on, in order
    (a partial match that breaks off is passed on too)."""

    def __init__(self, keys: bytes = DEFAULT):
        self.keys, self.pos = keys, 0

    def feed(self, data: bytes) -> tuple[bytes, bool]:
        """(bytes to send, whether the sequence completed in ``data``)."""
        out = bytearray()
        for b in data:
            if b == self.keys[self.pos]:
                self.pos += 1
                if self.pos == len(self.keys):
                    self.pos = 0
                    return bytes(out), True
                continue
            if self.pos:
                out += self.keys[:self.pos]
                self.pos = 0
                if b == self.keys[0]:
                    self.pos = 1
                    continue
            out.append(b)
        return bytes(out), False
