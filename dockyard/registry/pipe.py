"""Decompressing a layer on a thread of its own while another thread unpacks it.

Tar extraction is CPU-bound Python; gunzip/zstd release the GIL. Running the
decompressor on a second thread, one bounded queue ahead of the unpacker, lets the
two overlap on a multi-core machine instead of taking turns::

    follower (compressed) ──► decompress thread ──► queue (8 x 1 MiB) ──► unpacker

An error in the decompressor (a corrupt stream, a failed download under it) is
raised to the unpacker at the point it reaches it; closing the reader stops the thread.
"""
from __future__ import annotations

import io
import queue
import threading

CHUNK = 1 << 20
DEPTH = 8


class ThreadedDecompress(io.RawIOBase):
    """A raw reader of ``src`` decompressed (``"gzip"``/``"zstd"``) on a helper thread."""

    _EOF = object()

    def __init__(self, src, compression: str):
        from dockyard.image import streams
        self._src = src
        self._plain = streams.decompressed(src, compression)
        self._q: queue.Queue = queue.Queue(DEPTH)
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._done = False
        self._buf = memoryview(b"")
        self._thread = threading.Thread(target=self._run, name="layer-decompress", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            while not self._stop.is_set():
                data = self._plain.read(CHUNK)
                if not data:
                    self._put(self._EOF)
                    return
                self._put(data)
        except BaseException as e:  # handed to the reading thread, which raises it
            self._put(e)
        finally:
            with self._lock:
                self._done, closing = True, self._stop.is_set()
            if closing:           # closed while we were reading: the source is ours to close
                self._src.close()

    def _put(self, item) -> None:
        while not self._stop.is_set():
            try:
                self._q.put(item, timeout=0.5)
                return
            except queue.Full:
                continue

    def readable(self) -> bool:
        return True

    def readinto(self, b) -> int:
        if not self._buf:
            item = self._q.get()
            if item is self._EOF:
                self._q.put(self._EOF)      # later reads see EOF again
                return 0
            if isinstance(item, BaseException):
                self._q.put(item)
                raise item
            self._buf = memoryview(item)
        n = min(len(b), len(self._buf))
        b[:n] = self._buf[:n]
        self._buf = self._buf[n:]
        return n

    def close(self) -> None:
        """Stop the thread; the source is closed by whichever side finishes last
        (never under a read in progress, whose file descriptor could be reused)."""
        if not self.closed:
            with self._lock:
                self._stop.set()
                done = self._done
            if done:
                self._src.close()
        super().close()
