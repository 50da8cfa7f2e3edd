"""Error categories shared by every layer.

The core raises these with context (``raise NotFound(f"image {ref}") from e``);
edges map them once: to HTTP status in ``dockyard.api.errors`` and to exit codes
in ``dockyard.cli.main``. The core never prints and never exits.
"""


class DockyardError(Exception):
    """Root of dockyard's errors; ``str(err)`` is the one-line message."""

    status = 500


class NotFound(DockyardError):
    status = 404


class AlreadyExists(DockyardError):
    status = 409


class Conflict(DockyardError):
    status = 409


class InvalidArgument(DockyardError):
    status = 400


class FailedPrecondition(DockyardError):
    status = 412


class Unavailable(DockyardError):
    status = 503


class NotImplementedYet(DockyardError):
    """An API endpoint or option dockyard does not implement (HTTP 501)."""

    status = 501


class NotModified(DockyardError):
    """The request asked for a state the object is already in (HTTP 304)."""

    status = 304
