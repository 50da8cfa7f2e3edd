"""dockyard: a Docker-compatible container engine.

The package is importable in-process: ``dockyard.engine.Engine(root=...)``.
This module stays empty on purpose so the CLI's import path is lean.
"""
__version__ = "0.1.0"

import posix as _posix
import sys as _sys


def getenv(name: str, default: str | None = None) -> str | None:
    """``os.environ.get`` without importing :mod:`os`: ``import os`` is ~1 ms of a
    10 ms ``dockyard ps``, and the CLI's hot paths need nothing else from it.

    ``posix.environ`` is the environment as the interpreter started; whoever changed
    it since did so through ``os.environ``, so once :mod:`os` is loaded, ask it."""
    os_ = _sys.modules.get("os")
    if os_ is not None:
        return os_.environ.get(name, default)
    value = _posix.environ.get(name.encode())
    if value is None:
        return default
    return value.decode(_sys.getfilesystemencoding(), "surrogateescape")
