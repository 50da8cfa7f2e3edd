"""Which code a process runs: a fingerprint of the runtime's and the supervisor's sources.

The supervisor outlives dockyardd (containers keep running across daemon restarts), so
after an upgrade or a source change a new daemon can find an old supervisor still
serving with the old code. The daemon compares fingerprints at connect time and
replaces an idle supervisor whose code differs (see SupervisorClient.ensure).
"""
from __future__ import annotations

import hashlib
import os

_PACKAGE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_cached: str | None = None


def code_id() -> str:
    """sha256 (16 hex) over path, size and mtime of every source file of the runtime and
    the supervisor, computed once per process (what it loaded at start)."""
    global _cached
    if _cached is None:
        h = hashlib.sha256()
        for sub in ("runtime", "supervisor"):
            for dirpath, dirs, files in os.walk(os.path.join(_PACKAGE, sub)):
                dirs[:] = sorted(d for d in dirs if d != "__pycache__")
                for name in sorted(f for f in files if f.endswith((".py", ".json"))):
                    path = os.path.join(dirpath, name)
                    st = os.stat(path)
                    h.update(f"{os.path.relpath(path, _PACKAGE)} {st.st_size} "
                             f"{st.st_mtime_ns}\n".encode())
        _cached = h.hexdigest()[:16]
    return _cached
