"""Moved to :mod:`dockyard.jsonlite` (shared with the CLI); the runtime's name for it."""
from dockyard.jsonlite import dumps, loads  # noqa: F401
