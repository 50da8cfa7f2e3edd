"""Stream plumbing for layers: sniff compression, decompress, tee and hash while reading.

One pass over the input does everything: the raw bytes are teed into the content
store (blob digest), the decompressed bytes are hashed (diff ID) while tarfile reads
them to extract. Nothing is read twice.
"""
from __future__ import annotations

import bz2
import lzma
from typing import BinaryIO, Callable

from dockyard.errors import InvalidArgument
from dockyard.oci.digest import Hasher

_MAGIC = (
    (b"\x1f\x8b", "gzip"),
    (b"\x28\xb5\x2f\xfd", "zstd"),
    (b"\xfd7zXZ\x00", "xz"),
    (b"BZh", "bzip2"),
)


class _Reader:
    """``readinto`` on top of ``read`` (gzip/zstd readers call either)."""

    def readinto(self, b) -> int:
        data = self.read(len(b))
        n = len(data)
        memoryview(b).cast("B")[:n] = data
        return n

    def readable(self) -> bool:
        return True


class PeekReader(_Reader):
    """A reader whose first bytes can be looked at without consuming them."""

    def __init__(self, src: BinaryIO):
        self._src = src
        self._head = b""

    def peek(self, n: int) -> bytes:
        while len(self._head) < n:
            data = self._src.read(n - len(self._head))
            if not data:
                break
            self._head += data
        return self._head[:n]

    def read(self, n: int = -1) -> bytes:
        if self._head:
            if n is None or n < 0:
                data, self._head = self._head + self._src.read(), b""
                return data
            data, self._head = self._head[:n], self._head[n:]
            if len(data) < n:
                data += self._src.read(n - len(data))
            return data
        return self._src.read(n)


class TeeReader(_Reader):
    """Reads from ``src``, passing every chunk to ``sink`` (e.g. a blob writer) too."""

    def __init__(self, src, sink: Callable[[bytes], None]):
        self._src, self._sink = src, sink

    def read(self, n: int = -1) -> bytes:
        data = self._src.read(n)
        if data:
            self._sink(data)
        return data


class HashReader(TeeReader):
    """Reads from ``src`` and hashes what passes; ``.digest`` and ``.size`` at the end."""

    def __init__(self, src):
        self.hasher = Hasher()
        super().__init__(src, self.hasher.update)

    @property
    def digest(self) -> str:
        return self.hasher.digest

    @property
    def size(self) -> int:
        return self.hasher.size

    def drain(self) -> None:
        """Read to the end (a tar has padding after its end marker that the hash must see)."""
        while self.read(1 << 20):
            pass


def sniff(reader: PeekReader) -> str:
    """"gzip", "zstd", "xz", "bzip2" or "none" from the stream's first bytes."""
    head = reader.peek(6)
    for magic, name in _MAGIC:
        if head.startswith(magic):
            return name
    return "none"


def decompressed(src, compression: str):
    """A reader of ``src`` decompressed according to ``compression``."""
    if compression == "none":
        return src
    if compression == "gzip":
        from isal import igzip  # fast gzip; falls back to nothing slower
        return igzip.IGzipFile(fileobj=src, mode="rb")
    if compression == "zstd":
        import zstandard
        return zstandard.ZstdDecompressor().stream_reader(src, read_across_frames=True)
    if compression == "xz":
        return lzma.LZMAFile(src)
    if compression == "bzip2":
        return bz2.BZ2File(src)
    raise InvalidArgument(f"unsupported compression {compression!r}")


def read_decompress_errors() -> tuple[type[BaseException], ...]:
    """Exceptions a corrupt compressed stream raises while being read."""
    import zlib
    errs: list[type[BaseException]] = [EOFError, zlib.error, lzma.LZMAError, OSError]
    try:
        import zstandard
        errs.append(zstandard.ZstdError)
    except ImportError:
        pass
    return tuple(errs)


class Prefetcher(_Reader):
    """Reads ``src`` on a helper thread, feeding ``sink`` (blob write + hash) there too.

    The consumer (tar extraction) runs in parallel on the caller's thread: receiving,
    hashing and storing the blob overlap with creating files. Hashing, writes and socket
    reads release the GIL, so this uses a second core. Call :meth:`close` when done
    (also on errors): it stops the thread and waits for it.
    """

    def __init__(self, src, sink: Callable[[bytes], None], chunk: int = 1 << 20,
                 depth: int = 8):
        import queue
        import threading
        self._src, self._sink, self._chunk = src, sink, chunk
        self._q: "queue.Queue[bytes]" = queue.Queue(depth)
        self._stop = threading.Event()
        self._err: BaseException | None = None
        self._cur, self._pos, self._eof = b"", 0, False
        self._t = threading.Thread(target=self._run, name="layer-prefetch", daemon=True)
        self._t.start()

    def _put(self, data: bytes) -> None:
        import queue
        while not self._stop.is_set():
            try:
                self._q.put(data, timeout=0.5)
                return
            except queue.Full:
                continue

    def _run(self) -> None:
        try:
            while not self._stop.is_set():
                data = self._src.read(self._chunk)
                if data:
                    self._sink(data)
                self._put(data)
                if not data:
                    return
        except BaseException as e:  # handed to the consumer, raised there
            self._err = e
            self._put(b"")

    def read(self, n: int = -1) -> bytes:
        if n is None or n < 0:
            parts = []
            while data := self.read(1 << 20):
                parts.append(data)
            return b"".join(parts)
        while self._pos >= len(self._cur) and not self._eof:
            self._cur, self._pos = self._q.get(), 0
            if not self._cur:
                self._eof = True
                if self._err is not None:
                    raise self._err
        data = self._cur[self._pos:self._pos + n]
        self._pos += len(data)
        return data

    def close(self) -> None:
        import queue
        self._stop.set()
        while self._t.is_alive():
            try:
                self._q.get(timeout=0.1)
            except queue.Empty:
                pass
        self._t.join()
