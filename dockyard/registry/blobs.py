"""Blob download into the content store: verified while streaming, resumable, followable.

A :class:`BlobDownload` streams one blob from the registry into a content-store
writer (digest and size checked at commit; a mismatch leaves nothing behind). If
the connection breaks, it asks again with ``Range: bytes=N-`` and carries on
from byte N (starting over when the registry ignores the range).

While it downloads, :meth:`BlobDownload.follow` gives a reader over the bytes
written so far that blocks for more: the puller decompresses and extracts a layer
as it arrives, and the reader raises if the download fails verification.
"""
from __future__ import annotations

import io
import os
import threading
import time

from dockyard.errors import DockyardError, Unavailable
from dockyard.registry.client import RegistryClient, check
from dockyard.registry.progress import Cancelled

CHUNK = 1 << 20
ATTEMPTS = 5


class BlobDownload:
    """One blob from ``/v2/<repo>/blobs/<digest>`` into ``content``."""

    def __init__(self, content, client: RegistryClient, repo: str, desc: dict,
                 scope: str, on_progress=None):
        self.content, self.client, self.repo, self.scope = content, client, repo, scope
        self.digest, self.size = desc["digest"], int(desc["size"])
        self.on_progress = on_progress or (lambda *a: None)
        self.cancelled = threading.Event()
        self._cond = threading.Condition()
        self._tmp: str | None = None
        self.written = 0
        self.done = False
        self.error: BaseException | None = None

    # -- producer (worker thread) ---------------------------------------------------------------
    def run(self) -> None:
        """Download, verify and commit; errors are kept in ``self.error`` and re-raised."""
        try:
            if self.cancelled.is_set():
                raise Cancelled(f"download of {self.digest} cancelled")
            with self.content.writer(self.digest, self.size) as w:
                with self._cond:
                    self._tmp = w.tmp
                self._fill(w)
                self.on_progress(self.written, self.size, "Verifying Checksum")
                try:
                    w.commit()
                except DockyardError as e:
                    raise DockyardError(f"filesystem layer verification failed for digest "
                                        f"{self.digest}: {e}") from e
                self.on_progress(self.size, self.size, "Download complete")
        except BaseException as e:
            self._finish(e)
            raise
        self._finish(None)

    def _finish(self, error: BaseException | None) -> None:
        with self._cond:
            self.done, self.error = True, error
            self._cond.notify_all()

    def _fill(self, w) -> None:
        attempt = 0
        while self.written < self.size or self.size == 0:
            try:
                self._stream_from(w, self.written)
                if self.written >= self.size:
                    return
                raise ConnectionError("stream ended early")
            except (OSError, Unavailable) as e:
                attempt += 1
                if attempt >= ATTEMPTS or self.cancelled.is_set():
                    raise Unavailable(f"download of {self.digest} from {self.client.host} broke "
                                      f"after {self.written} of {self.size} bytes: {e}") from e
                time.sleep(min(0.2 * 2 ** attempt, 1.0))

    def _stream_from(self, w, offset: int) -> None:
        headers = {"Range": f"bytes={offset}-"} if offset else {}
        r = self.client.request("GET", f"/v2/{self.repo}/blobs/{self.digest}",
                                scope=self.scope, headers=headers)
        with r:
            check(r, f"blob {self.digest} of {self.repo}", ok=(200, 206))
            if offset and r.status == 200:
                self._skip(r, offset)          # the registry ignored Range: drop what we have
            buf = memoryview(bytearray(CHUNK))
            while n := r.readinto(buf):
                if self.cancelled.is_set():
                    raise Cancelled(f"download of {self.digest} cancelled")
                self._append(w, buf[:n])
            if self.size == 0:
                return

    def _skip(self, r, n: int) -> None:
        while n > 0:
            got = len(r.read(min(n, CHUNK)))
            if not got:
                raise ConnectionError("stream ended while skipping")
            n -= got

    def _append(self, w, data) -> None:
        w.write(data)
        # followers read the ingest file by path: push our buffer to the kernel first
        w._f.flush()
        with self._cond:
            self.written += len(data)
            self._cond.notify_all()
        self.on_progress(self.written, self.size, "Downloading")

    # -- consumer ----------------------------------------------------------------------------------
    def follow(self, on_read=None) -> io.BufferedReader:
        """A reader over the blob that waits for bytes still to come."""
        with self._cond:
            while self._tmp is None and not self.done:
                self._cond.wait()
            if self.error is not None:
                raise self.error
            path = self._tmp if not self.done else self.content.path(self.digest)
            try:
                f = open(path, "rb")
            except FileNotFoundError:     # committed between our check and the open
                f = open(self.content.path(self.digest), "rb")
        return io.BufferedReader(_Follower(self, f, on_read), CHUNK)

    def wait(self) -> None:
        with self._cond:
            while not self.done:
                self._cond.wait()
            if self.error is not None:
                raise self.error


class _Follower(io.RawIOBase):
    """Raw reader over a growing ingest file; EOF only once the blob is committed."""

    def __init__(self, dl: BlobDownload, f, on_read):
        self.dl, self.f, self.pos = dl, f, 0
        self.on_read = on_read or (lambda pos, total: None)

    def readable(self) -> bool:
        return True

    def readinto(self, b) -> int:
        while True:
            n = os.readv(self.f.fileno(), [b])
            if n:
                self.pos += n
                self.on_read(self.pos, self.dl.size)
                return n
            with self.dl._cond:
                if self.dl.error is not None:
                    raise DockyardError(str(self.dl.error)) from self.dl.error
                if self.dl.done:
                    if self.pos < self.dl.size:
                        continue   # committed just now; the rest is on disk
                    return 0
                if self.dl.written <= self.pos:
                    self.dl._cond.wait(1.0)

    def close(self) -> None:
        self.f.close()
        super().close()
