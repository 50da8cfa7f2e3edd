"""Verbs that act on several containers: print each argument on success, errors on stderr."""
from __future__ import annotations

import sys


def each(names: list[str], fn) -> int:
    """Run ``fn(name)`` for each; a 304 (already in that state) counts as success."""
    from dockyard import errors
    failed = 0
    for n in names:
        try:
            out = fn(n)
        except errors.NotModified:
            out = None
        except errors.DockyardError as e:
            print(f"Error response from daemon: {e}", file=sys.stderr)
            failed = 1
            continue
        print(n if out is None else out)
    return failed
