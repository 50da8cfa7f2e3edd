"""Turn an overlay upper directory into an OCI layer tar (the reverse of layer.py).

Overlay's markers become OCI whiteouts: a 0/0 character device ``x`` → ``.wh.x``, a
directory with ``trusted.overlay.opaque=y`` → the directory plus ``.wh..wh..opq``.
The output is deterministic (sorted names, whole-second mtimes, PAX headers only where
needed), so the same upper dir always gives the same diff ID.

Every build step and ``commit`` runs this, so it is written for speed: the bytes are
exactly what ``tarfile`` writes in PAX format (the format this module used before,
so diff IDs did not change), but a plain member's header is built here directly and
only unusual ones (long or non-ASCII names, xattrs, devices, big numbers) go through
``tarfile``. Small members are batched into ~1 MiB writes; big files are streamed.
"""
from __future__ import annotations

import os
import stat
from typing import BinaryIO

from dockyard.image.layer import OPAQUE, OPAQUE_XATTR, WHITEOUT_PREFIX

BLOCK = 512
_BATCH = 1 << 20  # join small members into writes of about this size
_CHUNK = 1 << 20  # read size for big files
_XATTR_PAX = "SCHILY.xattr."
REG, LNK, SYM, CHR, BLK, DIR, FIFO = b"0", b"1", b"2", b"3", b"4", b"5", b"6"
_MAX7, _MAX11 = 8 ** 7, 8 ** 11  # what ustar's 8- and 12-byte octal fields hold
# magic, version, uname, gname, devmajor, devminor (empty), prefix, padding to 512
_TAIL = b"ustar\x0000" + b"\0" * (32 + 32 + 8 + 8 + 155 + 12)


def _xattrs(path: str) -> dict[str, str]:
    out = {}
    try:
        names = os.listxattr(path, follow_symlinks=False)
    except OSError:
        return out
    for name in sorted(names):
        if name.startswith("trusted.overlay."):
            continue
        try:
            value = os.getxattr(path, name, follow_symlinks=False)
        except OSError:
            continue
        out[_XATTR_PAX + name] = value.decode("utf-8", "surrogateescape")
    return out


def _is_opaque(path: str) -> bool:
    try:
        return os.getxattr(path, OPAQUE_XATTR, follow_symlinks=False) == b"y"
    except OSError:
        return False


def _octal(n: int, width: int) -> bytes:
    return b"%0*o\0" % (width - 1, n)


def header(name: str, mode: int, uid: int, gid: int, size: int, mtime: int, kind: bytes,
           linkname: str = "", dev: tuple[int, int] | None = None,
           pax: dict[str, str] | None = None) -> bytes:
    """The header block(s) ``tarfile`` writes for this member in PAX format."""
    if (pax or dev or not (name.isascii() and len(name) <= 100 and linkname.isascii()
                           and len(linkname) <= 100)
            or not (0 <= uid < _MAX7 and 0 <= gid < _MAX7 and 0 <= size < _MAX11
                    and 0 <= mtime < _MAX11)):
        return _tarfile_header(name, mode, uid, gid, size, mtime, kind, linkname, dev, pax)
    h = (name.encode().ljust(100, b"\0") + _octal(mode & 0o7777, 8) + _octal(uid, 8)
         + _octal(gid, 8) + _octal(size, 12) + _octal(mtime, 12) + b"        " + kind
         + linkname.encode().ljust(100, b"\0") + _TAIL)
    return h[:148] + b"%06o\0" % sum(h) + h[155:]


def _tarfile_header(name: str, mode: int, uid: int, gid: int, size: int, mtime: int,
                    kind: bytes, linkname: str, dev: tuple[int, int] | None,
                    pax: dict[str, str] | None) -> bytes:
    import tarfile  # only for the unusual members
    ti = tarfile.TarInfo(name[:-1] if kind == DIR else name)
    ti.mode, ti.uid, ti.gid, ti.size, ti.mtime = mode, uid, gid, size, mtime
    ti.type, ti.linkname, ti.uname, ti.gname = kind, linkname, "", ""
    if dev:
        ti.devmajor, ti.devminor = dev
    ti.pax_headers = dict(pax or {})
    # what TarFile.addfile does for a writer opened with mode "w" (errors="strict")
    return ti.tobuf(tarfile.PAX_FORMAT, tarfile.ENCODING, "strict")


class _Writer:
    """Members in order into ``out``, small ones batched."""

    def __init__(self, root: str, out: BinaryIO):
        self.root, self.out = root, out
        self.inodes: dict[tuple[int, int], str] = {}
        self.size = 0  # bytes of regular file content, as layer.apply_tar counts them
        self.buf: list[bytes] = []
        self.pending = 0

    def emit(self, data: bytes) -> None:
        self.buf.append(data)
        self.pending += len(data)
        if self.pending >= _BATCH:
            self.flush()

    def flush(self) -> None:
        if self.buf:
            self.out.write(b"".join(self.buf))
            self.buf, self.pending = [], 0

    def member(self, rel: str, st: os.stat_result, kind: bytes, size: int = 0,
               linkname: str = "", dev=None, pax=None, mode: int | None = None) -> None:
        self.emit(header(rel, stat.S_IMODE(st.st_mode) if mode is None else mode,
                         st.st_uid, st.st_gid, size, int(st.st_mtime), kind, linkname, dev, pax))

    def add(self, rel: str) -> None:
        path = os.path.join(self.root, rel)
        st = os.lstat(path)
        mode = st.st_mode
        if stat.S_ISCHR(mode) and st.st_rdev == 0:  # overlay whiteout
            head, base = os.path.split(rel)
            self.member(os.path.join(head, WHITEOUT_PREFIX + base), st, REG, mode=0o600)
            return
        pax = _xattrs(path)
        key = (st.st_dev, st.st_ino)
        if not stat.S_ISDIR(mode) and st.st_nlink > 1 and key in self.inodes:
            self.member(rel, st, LNK, linkname=self.inodes[key], pax=pax)
            return
        self.inodes.setdefault(key, rel)
        if stat.S_ISREG(mode):
            self.member(rel, st, REG, size=st.st_size, pax=pax)
            self.size += st.st_size
            self.file_data(path, st.st_size)
        elif stat.S_ISDIR(mode):
            self.member(rel + "/", st, DIR, pax=pax)
            if _is_opaque(path):
                self.member(os.path.join(rel, OPAQUE), st, REG, mode=0o600)
        elif stat.S_ISLNK(mode):
            self.member(rel, st, SYM, linkname=os.readlink(path), pax=pax)
        elif stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
            self.member(rel, st, CHR if stat.S_ISCHR(mode) else BLK, pax=pax,
                        dev=(os.major(st.st_rdev), os.minor(st.st_rdev)))
        elif stat.S_ISFIFO(mode):
            self.member(rel, st, FIFO, pax=pax)
        # sockets cannot be archived; docker skips them too

    def file_data(self, path: str, size: int) -> None:
        """Exactly ``size`` bytes of the file and the padding (as tarfile: a file that
        shrank since it was stat'ed is an error)."""
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
        try:
            if size <= _CHUNK:
                data = os.read(fd, size) if size else b""
                if len(data) < size:
                    data += self._rest(fd, path, size - len(data))
                self.emit(data)
            else:
                self.flush()
                left = size
                while left > 0:
                    data = os.read(fd, min(_CHUNK, left))
                    if not data:
                        raise OSError(f"{path}: file shrank while it was archived")
                    self.out.write(data)
                    left -= len(data)
        finally:
            os.close(fd)
        if size % BLOCK:
            self.emit(b"\0" * (BLOCK - size % BLOCK))

    @staticmethod
    def _rest(fd: int, path: str, left: int) -> bytes:
        parts = []
        while left > 0:
            data = os.read(fd, left)
            if not data:
                raise OSError(f"{path}: file shrank while it was archived")
            parts.append(data)
            left -= len(data)
        return b"".join(parts)


def write_diff(upper: str, out: BinaryIO, exclude: frozenset[str] = frozenset()) -> int:
    """Write the layer tar of overlay upper dir ``upper`` to ``out`` (uncompressed).

    Returns the layer's content size (bytes of regular files, hard links not counted).
    The archive ends with the two zero blocks only, like Go's archive/tar (no padding
    to a 10 KiB record), so an empty layer is docker's 1024-byte empty tar. Entries
    named in ``exclude`` (relative paths) are left out (a directory's entry only).
    """
    w = _Writer(upper, out)
    for dirpath, dirs, files in os.walk(upper):
        dirs.sort()
        rel_dir = os.path.relpath(dirpath, upper)
        for name in sorted(dirs + files):
            rel = name if rel_dir == "." else os.path.join(rel_dir, name)
            if rel not in exclude:
                w.add(rel)
    w.emit(b"\0" * (BLOCK * 2))
    w.flush()
    return w.size


def write_dir(root: str, out: BinaryIO) -> None:
    """Archive a plain directory tree (``import DIR``): same format, no overlay markers."""
    write_diff(root, out)
