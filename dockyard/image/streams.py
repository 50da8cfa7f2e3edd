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
