"""Verbs that act on several containers: print each argument on success, errors on stderr."""
from __future__ import annotations

import sys


def each(names: list[str], fn) -> int:
    from dockyard import errors
    failed = 0
    for n in names:
        try:
            out = fn(n)
            print(n if out is None else out)
        except errors.DockyardError as e:
            print(f"Error response from daemon: {e}", file=sys.stderr)
            failed = 1
    return failed
