"""Turn an overlay upper directory into an OCI layer tar (the reverse of layer.py).

Overlay's markers become OCI whiteouts: a 0/0 character device ``x`` → ``.wh.x``, a
directory with ``trusted.overlay.opaque=y`` → the directory plus ``.wh..wh..opq``.
The output is deterministic (sorted names, whole-second mtimes, PAX headers only where
needed), so the same upper dir always gives the same diff ID.
"""
from __future__ import annotations

import os
import stat
import tarfile
from typing import BinaryIO

from dockyard.image.layer import OPAQUE, OPAQUE_XATTR, WHITEOUT_PREFIX

_XATTR_PAX = "SCHILY.xattr."


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


def _is_whiteout(st: os.stat_result) -> bool:
    return stat.S_ISCHR(st.st_mode) and st.st_rdev == 0


def _is_opaque(path: str) -> bool:
    try:
        return os.getxattr(path, OPAQUE_XATTR, follow_symlinks=False) == b"y"
    except OSError:
        return False


class _Writer:
    def __init__(self, root: str, tf: tarfile.TarFile):
        self.root, self.tf = root, tf
        self.inodes: dict[tuple[int, int], str] = {}
        self.size = 0  # bytes of regular file content, as layer.apply_tar counts them

    def info(self, rel: str, st: os.stat_result) -> tarfile.TarInfo:
        ti = tarfile.TarInfo(rel)
        ti.mode = stat.S_IMODE(st.st_mode)
        ti.uid, ti.gid = st.st_uid, st.st_gid
        ti.mtime = int(st.st_mtime)
        ti.uname = ti.gname = ""
        return ti

    def add(self, rel: str) -> None:
        path = os.path.join(self.root, rel)
        st = os.lstat(path)
        if _is_whiteout(st):
            head, base = os.path.split(rel)
            ti = self.info(os.path.join(head, WHITEOUT_PREFIX + base), st)
            ti.type, ti.mode = tarfile.REGTYPE, 0o600
            self.tf.addfile(ti)
            return
        ti = self.info(rel, st)
        ti.pax_headers = _xattrs(path)
        key = (st.st_dev, st.st_ino)
        if not stat.S_ISDIR(st.st_mode) and st.st_nlink > 1 and key in self.inodes:
            ti.type, ti.linkname = tarfile.LNKTYPE, self.inodes[key]
            self.tf.addfile(ti)
            return
        self.inodes.setdefault(key, rel)
        self._add_typed(ti, st, path, rel)

    def _add_typed(self, ti: tarfile.TarInfo, st: os.stat_result, path: str, rel: str) -> None:
        mode = st.st_mode
        if stat.S_ISREG(mode):
            ti.size = st.st_size
            self.size += st.st_size
            with open(path, "rb") as f:
                self.tf.addfile(ti, f)
            return
        if stat.S_ISDIR(mode):
            ti.type = tarfile.DIRTYPE
            self.tf.addfile(ti)
            if _is_opaque(path):
                op = self.info(os.path.join(rel, OPAQUE), st)
                op.type, op.mode = tarfile.REGTYPE, 0o600
                self.tf.addfile(op)
            return
        if stat.S_ISLNK(mode):
            ti.type, ti.linkname = tarfile.SYMTYPE, os.readlink(path)
        elif stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
            ti.type = tarfile.CHRTYPE if stat.S_ISCHR(mode) else tarfile.BLKTYPE
            ti.devmajor, ti.devminor = os.major(st.st_rdev), os.minor(st.st_rdev)
        elif stat.S_ISFIFO(mode):
            ti.type = tarfile.FIFOTYPE
        else:
            return  # sockets cannot be archived; docker skips them too
        self.tf.addfile(ti)


class _Sink:
    """A write-only stream with ``tell`` (TarFile wants one) over any ``write``."""

    def __init__(self, out: BinaryIO):
        self._out, self.pos = out, 0

    def write(self, data: bytes) -> int:
        self._out.write(data)
        self.pos += len(data)
        return len(data)

    def tell(self) -> int:
        return self.pos


class _TarWriter(tarfile.TarFile):
    """Ends the archive with the two zero blocks only, like Go's archive/tar (no padding
    to a 10 KiB record), so an empty layer is docker's 1024-byte empty tar."""

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            self.fileobj.write(tarfile.NUL * (tarfile.BLOCKSIZE * 2))


def write_diff(upper: str, out: BinaryIO) -> int:
    """Write the layer tar of overlay upper dir ``upper`` to ``out`` (uncompressed).

    Returns the layer's content size (bytes of regular files, hard links not counted).
    """
    with _TarWriter(fileobj=_Sink(out), mode="w", format=tarfile.PAX_FORMAT) as tf:
        w = _Writer(upper, tf)
        for dirpath, dirs, files in os.walk(upper):
            dirs.sort()
            rel_dir = os.path.relpath(dirpath, upper)
            for name in sorted(dirs + files):
                w.add(name if rel_dir == "." else os.path.join(rel_dir, name))
    return w.size


def write_dir(root: str, out: BinaryIO) -> None:
    """Archive a plain directory tree (``import DIR``): same format, no overlay markers."""
    write_diff(root, out)
