"""Content-addressed blob store.

Layout under ``root``::

    blobs/sha256/<hex>     committed blobs, immutable, named by their digest
    ingest/<random>        blobs being written; never visible until committed

A write goes temp file → fsync → verify digest and size → rename (atomic), like
containerd's ``content/local`` writer. A blob that fails verification is deleted
and never becomes visible. Leftover ingest files (a crash mid-write) are removed
by :meth:`ContentStore.clean_ingest` at start-up.
"""
from __future__ import annotations

import os
import tempfile
from typing import BinaryIO, Iterator

from dockyard.errors import InvalidArgument, NotFound
from dockyard.oci import digest as dg


class Writer:
    """An open ingest; use as a context manager, call :meth:`commit` at the end.

    Leaving the ``with`` block without a commit (an exception, a cut stream)
    deletes the temp file.
    """

    def __init__(self, store: "ContentStore", expected: str | None, size: int | None):
        self._store, self.expected, self.expected_size = store, expected, size
        fd, self.tmp = tempfile.mkstemp(dir=store.ingest_dir)
        self._f = os.fdopen(fd, "wb")
        self._hasher = dg.Hasher()
        self.digest: str | None = None

    @property
    def size(self) -> int:
        return self._hasher.size

    def fileno(self) -> int:
        """The temp file's descriptor (e.g. to start writeback early with posix_fadvise)."""
        return self._f.fileno()

    @property
    def current_digest(self) -> str:
        """Digest of what was written so far (to record it in an undo log before commit)."""
        return self._hasher.digest

    def write(self, data: bytes) -> None:
        self._hasher.update(data)
        self._f.write(data)
        if self.expected_size is not None and self._hasher.size > self.expected_size:
            raise InvalidArgument(
                f"blob {self.expected or ''} is larger than its declared size {self.expected_size}")

    def reader(self) -> BinaryIO:
        """A new read handle on what was written so far (e.g. to unpack a spooled layer
        while :meth:`commit` syncs it on another thread; a rename keeps it valid)."""
        self._f.flush()
        return open(self.tmp, "rb")

    def commit(self) -> str:
        """Verify, then rename into place; return the digest."""
        self._f.flush()
        os.fsync(self._f.fileno())
        self._f.close()
        got = self._hasher.digest
        if self.expected and got != self.expected:
            raise InvalidArgument(f"digest mismatch: expected {self.expected}, got {got}")
        if self.expected_size is not None and self._hasher.size != self.expected_size:
            raise InvalidArgument(
                f"size mismatch for {got}: expected {self.expected_size} bytes, got {self._hasher.size}")
        os.rename(self.tmp, self._store.path(got))
        self.tmp = None
        self.digest = got
        return got

    def abort(self) -> None:
        if not self._f.closed:
            self._f.close()
        if self.tmp:
            try:
                os.unlink(self.tmp)
            except FileNotFoundError:
                pass
            self.tmp = None

    def __enter__(self) -> "Writer":
        return self

    def __exit__(self, *exc) -> None:
        self.abort()


class ContentStore:
    """Blobs addressed by digest; see the module docstring for the layout."""

    def __init__(self, root: str):
        self.root = root
        self.blob_dir = os.path.join(root, "blobs", "sha256")
        self.ingest_dir = os.path.join(root, "ingest")
        os.makedirs(self.blob_dir, exist_ok=True)
        os.makedirs(self.ingest_dir, exist_ok=True)

    def path(self, digest: str) -> str:
        return os.path.join(self.blob_dir, dg.hex_of(digest))

    def exists(self, digest: str) -> bool:
        return os.path.exists(self.path(digest))

    def size(self, digest: str) -> int:
        try:
            return os.stat(self.path(digest)).st_size
        except FileNotFoundError:
            raise NotFound(f"blob {digest} not found") from None

    def open(self, digest: str) -> BinaryIO:
        try:
            return open(self.path(digest), "rb")
        except FileNotFoundError:
            raise NotFound(f"blob {digest} not found") from None

    def read(self, digest: str) -> bytes:
        with self.open(digest) as f:
            return f.read()

    def writer(self, expected: str | None = None, size: int | None = None) -> Writer:
        """Open an ingest; ``expected``/``size`` are verified at commit."""
        if expected:
            dg.validate(expected)
        return Writer(self, expected, size)

    def put(self, data: bytes, expected: str | None = None) -> str:
        """Store ``data`` (no-op if present) and return its digest."""
        d = dg.of_bytes(data)
        if expected and expected != d:
            raise InvalidArgument(f"digest mismatch: expected {expected}, got {d}")
        if self.exists(d):
            return d
        with self.writer(d, len(data)) as w:
            w.write(data)
            return w.commit()

    def put_stream(self, stream: BinaryIO, expected: str | None = None,
                   size: int | None = None, chunk: int = 1 << 20) -> str:
        """Copy ``stream`` into the store, verifying ``expected``/``size``."""
        with self.writer(expected, size) as w:
            while data := stream.read(chunk):
                w.write(data)
            return w.commit()

    def delete(self, digest: str) -> None:
        try:
            os.unlink(self.path(digest))
        except FileNotFoundError:
            pass

    def list(self) -> Iterator[str]:
        for name in os.listdir(self.blob_dir):
            yield "sha256:" + name

    def verify(self, digest: str) -> bool:
        """Re-hash a committed blob; False when its content no longer matches."""
        h = dg.Hasher()
        with self.open(digest) as f:
            while data := f.read(1 << 20):
                h.update(data)
        return h.digest == digest

    def clean_ingest(self) -> int:
        """Remove ingests left by a crash; return how many."""
        n = 0
        for name in os.listdir(self.ingest_dir):
            os.unlink(os.path.join(self.ingest_dir, name))
            n += 1
        return n
