"""Stream plumbing for layers: sniff compression, decompress, tee and hash while reading.

The raw bytes are teed into the content store (blob digest) while the decompressed
bytes are hashed (diff ID), in one pass over the input.
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

    def read1(self, n: int = -1) -> bytes:
        """What the source has at hand, up to ``n`` bytes (at least one unless at the end):
        a request body then hands over each piece it received instead of joining them."""
        if self._head:
            return self.read(n if n is not None and 0 <= n < len(self._head) else len(self._head))
        read1 = getattr(self._src, "read1", None)
        data = read1(n) if read1 is not None else b""
        return data or self._src.read(n)  # b"" from read1 may mean "nothing yet"


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


def copy_pipelined(read: Callable[[], bytes], sink: Callable[[bytes], None],
                   depth: int = 8) -> None:
    """Call ``sink`` on every chunk ``read()`` returns, until it returns b"", with the
    reads on a helper thread: receiving a body overlaps hashing and writing it (socket
    reads, sha256 of big chunks and file writes all release the GIL). Errors from
    either side are raised here; the helper is always stopped and joined.
    """
    import queue
    import threading
    q: "queue.Queue[bytes | BaseException]" = queue.Queue(depth)
    stop = threading.Event()

    def put(item) -> bool:
        while not stop.is_set():
            try:
                q.put(item, timeout=0.2)
                return True
            except queue.Full:
                continue
        return False

    def run() -> None:
        try:
            while True:
                data = read()
                if not put(data) or not data:
                    return
        except BaseException as e:  # noqa: BLE001 - handed to the consumer, raised there
            put(e)

    t = threading.Thread(target=run, name="layer-receive", daemon=True)
    t.start()
    try:
        while True:
            item = q.get()
            if isinstance(item, BaseException):
                raise item
            if not item:
                return
            sink(item)
    finally:
        stop.set()
        t.join()
