"""Content digests (``sha256:<64 hex>``), as the OCI image spec defines them."""
from __future__ import annotations

import hashlib
import re

from dockyard.errors import InvalidArgument

_DIGEST_RE = re.compile(r"^(sha256|sha512):([a-f0-9]{64}|[a-f0-9]{128})$")


def validate(digest: str) -> str:
    """Return ``digest`` if well formed, else raise InvalidArgument."""
    m = _DIGEST_RE.match(digest or "")
    if not m or len(m.group(2)) != (64 if m.group(1) == "sha256" else 128):
        raise InvalidArgument(f"invalid digest {digest!r}: want sha256:<64 hex digits>")
    return digest


def of_bytes(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def hex_of(digest: str) -> str:
    """The hex part of a validated digest (the blob's file name)."""
    return validate(digest).split(":", 1)[1]


def short_id(digest: str, length: int = 12) -> str:
    """Docker's short ID: the first 12 hex digits, without the algorithm."""
    return digest.split(":", 1)[-1][:length]


class Hasher:
    """Incremental sha256 that also counts bytes; ``.digest`` is ``sha256:…``."""

    def __init__(self) -> None:
        self._h = hashlib.sha256()
        self.size = 0

    def update(self, data: bytes) -> None:
        self._h.update(data)
        self.size += len(data)

    @property
    def digest(self) -> str:
        return "sha256:" + self._h.hexdigest()
