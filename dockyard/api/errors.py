"""The one place where errors become HTTP status codes (moby's httpstatus.FromError)."""
from __future__ import annotations

import logging

from dockyard.errors import DockyardError

log = logging.getLogger("dockyard.api")


def status_and_message(exc: BaseException) -> tuple[int, str]:
    """Map an exception to docker's status code and ``{"message"}`` text."""
    if isinstance(exc, DockyardError):
        return exc.status, str(exc)
    if isinstance(exc, PermissionError):
        return 403, str(exc)
    log.exception("internal error", exc_info=exc)
    return 500, f"{type(exc).__name__}: {exc}"
