"""The client side of a build context: a directory → the tar ``POST /build`` takes.

As docker's CLI does, files matched by .dockerignore are left out, but the
Dockerfile and .dockerignore are always sent. A Dockerfile outside the context
directory is added under a generated name. This runs at every ``dockyard build``,
so the tar is written by hand (ustar, with a PAX record for long or non-ASCII
names and big files): importing ``tarfile`` alone would cost more than a small
context takes to pack.
"""
from __future__ import annotations

import os
import stat

TYPE_CHECKING = False  # typing costs milliseconds of import on every CLI call
if TYPE_CHECKING:
    from typing import Iterator

from dockyard.build import dockerignore

BLOCK = 512
CHUNK = 1 << 18


def _octal(n: int, width: int) -> bytes:
    return b"%0*o\0" % (width - 1, n)


def _pax(fields: dict[str, str]) -> bytes:
    """A PAX extended header record set (``len key=value\n`` each). A name that is not
    UTF-8 (os.listdir gives it with surrogate escapes) goes in as its raw bytes, marked
    ``hdrcharset=BINARY`` as POSIX says, like GNU tar and Go's archive/tar."""
    out = b""
    if any(not _is_utf8(v) for v in fields.values()):
        fields = {"hdrcharset": "BINARY", **fields}
    for key, value in fields.items():
        body = f" {key}={value}\n".encode("utf-8", "surrogateescape")
        n = len(body) + 1
        while len(str(n).encode() + body) != n:
            n = len(str(n).encode() + body)
        out += str(n).encode() + body
    return out


def _is_utf8(text: str) -> bool:
    try:
        text.encode()
        return True
    except UnicodeEncodeError:
        return False


def header(name: str, mode: int, uid: int, gid: int, size: int, mtime: int,
           kind: bytes, linkname: str = "") -> bytes:
    """One member's header block(s); a PAX header first when ustar cannot hold it."""
    pax = {}
    bname, blink = os.fsencode(name), os.fsencode(linkname)
    if len(bname) > 100 or not name.isascii():
        pax["path"], bname = name, bname[:100]
    if len(blink) > 100 or not linkname.isascii():
        pax["linkpath"], blink = linkname, blink[:100]
    if size >= 8 ** 11:
        pax["size"], size = str(size), 0
    out = b""
    if pax:
        data = _pax(pax)
        out = _block(b"././@PaxHeader", 0o644, 0, 0, len(data), mtime, b"x", b"") + _pad(data)
    return out + _block(bname, mode, min(uid, 8 ** 7 - 1), min(gid, 8 ** 7 - 1), size, mtime, kind, blink)


def _block(name: bytes, mode: int, uid: int, gid: int, size: int, mtime: int,
           kind: bytes, linkname: bytes) -> bytes:
    h = (name.ljust(100, b"\0") + _octal(mode, 8) + _octal(uid, 8) + _octal(gid, 8)
         + _octal(size, 12) + _octal(max(mtime, 0), 12) + b" " * 8 + kind
         + linkname.ljust(100, b"\0") + b"ustar\x0000" + b"\0" * 32 * 2 + b"\0" * 16 + b"\0" * 155)
    h = h.ljust(BLOCK, b"\0")
    checksum = b"%06o\0 " % sum(h)
    return h[:148] + checksum + h[156:]


def _pad(data: bytes) -> bytes:
    return data + b"\0" * (-len(data) % BLOCK)


def _entry(full: str, name: str, st: os.stat_result) -> Iterator[bytes]:
    """One member: header, then (for a file) exactly ``st_size`` bytes and padding,
    even if the file changed size since it was stat'ed."""
    mode, mtime = stat.S_IMODE(st.st_mode), int(st.st_mtime)
    if stat.S_ISDIR(st.st_mode):
        yield header(name + "/", mode, st.st_uid, st.st_gid, 0, mtime, b"5")
    elif stat.S_ISLNK(st.st_mode):
        yield header(name, mode, st.st_uid, st.st_gid, 0, mtime, b"2", os.readlink(full))
    elif stat.S_ISREG(st.st_mode):
        head = header(name, mode, st.st_uid, st.st_gid, st.st_size, mtime, b"0")
        fd = os.open(full, os.O_RDONLY | os.O_CLOEXEC)
        try:
            if st.st_size <= CHUNK:  # most files: one piece, one read
                data = _read_upto(fd, st.st_size)
                missing, pad = st.st_size - len(data), -st.st_size % BLOCK
                yield head + data + b"\0" * (missing + pad)
                return
            yield head
            left = st.st_size
            while left > 0:
                chunk = os.read(fd, min(CHUNK, left))
                if not chunk:
                    yield b"\0" * left
                    break
                yield chunk
                left -= len(chunk)
        finally:
            os.close(fd)
        yield b"\0" * (-st.st_size % BLOCK)


def _read_upto(fd: int, size: int) -> bytes:
    """Up to ``size`` bytes (fewer only if the file shrank)."""
    data = os.read(fd, size) if size else b""
    while len(data) < size:
        more = os.read(fd, size - len(data))
        if not more:
            break
        data += more
    return data


def _batched(chunks: Iterator[bytes], size: int = CHUNK) -> Iterator[bytes]:
    """Join small pieces so each write to the socket carries a useful amount."""
    buf: list[bytes] = []
    n = 0
    for c in chunks:
        buf.append(c)
        n += len(c)
        if n >= size:
            yield b"".join(buf)
            buf, n = [], 0
    if buf:
        yield b"".join(buf)


def _included(root: str, matcher: dockerignore.Matcher, always: set[str]):
    """(context path, full path) of what goes in the tar, parents before children."""
    for dirpath, dirs, files in os.walk(root):
        rel_dir = os.path.relpath(dirpath, root)
        kept = []
        for name in sorted(dirs):
            rel = name if rel_dir == "." else f"{rel_dir}/{name}"
            excluded = bool(matcher) and matcher.excluded(rel)
            if excluded and not matcher.may_include_below(rel):
                continue
            kept.append(name)
            if not excluded:  # an excluded dir walked for re-included files is left out
                yield rel, os.path.join(dirpath, name)
        dirs[:] = kept
        for name in sorted(files):
            rel = name if rel_dir == "." else f"{rel_dir}/{name}"
            if not (matcher and matcher.excluded(rel)) or rel in always:
                yield rel, os.path.join(dirpath, name)


def context_stream(context_dir: str, dockerfile: str | None = None) -> tuple[Iterator[bytes], str]:
    """(tar as an iterator of chunks, Dockerfile name inside the tar) for a directory.

    Streaming keeps memory flat for big contexts and overlaps packing with sending.
    """
    root = os.path.abspath(context_dir)
    df_path = os.path.abspath(dockerfile) if dockerfile else os.path.join(root, "Dockerfile")
    df_name = os.path.relpath(df_path, root)
    outside = df_name.startswith("..")
    if outside:
        df_name = f".dockerfile.{os.urandom(10).hex()}"
    matcher = dockerignore.load(root)

    def members() -> Iterator[bytes]:
        added = False
        for rel, full in _included(root, matcher, {df_name, ".dockerignore"}):
            added = added or rel == df_name
            yield from _entry(full, rel, os.lstat(full))
        if outside or (not added and os.path.isfile(df_path)):
            yield from _entry(df_path, df_name, os.stat(df_path))
        yield b"\0" * BLOCK * 2
    return _batched(members()), df_name


def context_tar(context_dir: str, dockerfile: str | None = None) -> tuple[bytes, str]:
    """(tar bytes, Dockerfile name inside the tar) for a directory context."""
    chunks, df_name = context_stream(context_dir, dockerfile)
    return b"".join(chunks), df_name


def dockerfile_only_tar(text: bytes) -> bytes:
    """``docker build - < Dockerfile``: a context holding just the Dockerfile."""
    return header("Dockerfile", 0o644, 0, 0, len(text), 0, b"0") + _pad(text) + b"\0" * BLOCK * 2


def looks_like_tar(data: bytes) -> bool:
    """A tar (ustar magic) or a compressed stream, as opposed to a bare Dockerfile."""
    return data[257:262] == b"ustar" or data[:2] == b"\x1f\x8b" or data[:3] == b"BZh" \
        or data[:6] == b"\xfd7zXZ\x00"
