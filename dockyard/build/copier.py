"""COPY/ADD into a mounted rootfs, never following a symlink out of it.

``resolve_in_root`` walks a path one component at a time the way the container
would see it: an absolute symlink restarts at the rootfs, ``..`` stops at it. The
result is always a host path under ``root``. Files are then created with
O_NOFOLLOW, so a symlink planted at the final name cannot redirect a write.
"""
from __future__ import annotations

import os
import posixpath
import shutil
import stat
import tarfile
from dataclasses import dataclass

from dockyard.errors import InvalidArgument
from dockyard.fspath import resolve_in_root


@dataclass
class Owner:
    uid: int = 0
    gid: int = 0


def make_dirs(root: str, path: str, owner: Owner | None, mode: int = 0o755) -> str:
    """mkdir -p inside root; directories created here get ``owner``. Returns host path."""
    host = resolve_in_root(root, path)
    if os.path.isdir(host):
        return host
    parent = posixpath.dirname(path.rstrip("/")) or "/"
    if parent != path:
        make_dirs(root, parent, owner, mode)
    host = resolve_in_root(root, path)
    if os.path.lexists(host) and not os.path.isdir(host):
        raise InvalidArgument(f"cannot create directory {path}: a file is in the way")
    os.mkdir(host, mode)
    os.chmod(host, mode)
    if owner:
        os.lchown(host, owner.uid, owner.gid)
    return host


def copy_entry(src, st: os.stat_result, root: str, dest: str,
               owner: Owner, chmod: int | None) -> None:
    """Copy one context entry (file, dir, symlink) to rootfs path ``dest``."""
    host = resolve_in_root(root, posixpath.dirname(dest))
    place_entry(src, st, os.path.join(host, posixpath.basename(dest)), owner, chmod)


def place_entry(src, st: os.stat_result, target: str, owner: Owner, chmod: int | None) -> None:
    """Copy one entry to host path ``target``, whose parent is already resolved in-root.

    ``src`` is a path, or a tar context's ``TarData`` (fd, offset, size, linkname).

    A directory entry always ends up a real directory (a symlink in its place is
    replaced), so it is safe to use as the resolved parent of its own children.
    """
    mode = stat.S_IMODE(st.st_mode) if chmod is None else chmod
    if stat.S_ISREG(st.st_mode):
        _copy_file(src, target, mode, owner, st)
        return
    if stat.S_ISDIR(st.st_mode):
        if not _remove_existing(target, keep_dir=True):
            os.mkdir(target, 0o700)
        os.chmod(target, mode)
    elif stat.S_ISLNK(st.st_mode):
        link = os.readlink(src) if isinstance(src, str) else src.linkname
        try:
            os.symlink(link, target)
        except FileExistsError:
            _remove_existing(target, keep_dir=False)
            os.symlink(link, target)
    else:
        return  # sockets, fifos, devices are not copied
    os.lchown(target, owner.uid, owner.gid)
    if not stat.S_ISLNK(st.st_mode):
        os.utime(target, ns=(st.st_atime_ns, st.st_mtime_ns))


def _copy_file(src, target: str, mode: int, owner: Owner, st: os.stat_result) -> None:
    """Create ``target`` (never through a symlink) with ``src``'s bytes, owner and times;
    whatever was at ``target`` is replaced."""
    out = _create(target)
    try:
        if isinstance(src, str):
            with open(src, "rb") as f:
                _sendfile(out, f.fileno(), 0, st.st_size)
        else:  # a member of a tar context: its bytes at an offset in the tar file
            _sendfile(out, src.fd, src.offset, src.size)
        os.fchown(out, owner.uid, owner.gid)
        os.fchmod(out, mode)  # after chown, which clears set-id bits
        os.utime(out, ns=(st.st_atime_ns, st.st_mtime_ns))
    finally:
        os.close(out)


def _create(target: str) -> int:
    """A new file at ``target``. Creating first and clearing the way only on EEXIST
    saves a lookup per file: on an overlay mount a miss walks every lower layer."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
    try:
        return os.open(target, flags, 0o600)
    except FileExistsError:  # a file, symlink or directory is in the way
        _remove_existing(target, keep_dir=False)
        return os.open(target, flags, 0o600)


def _sendfile(out: int, in_fd: int, offset: int, size: int) -> None:
    """Copy ``size`` bytes from ``in_fd`` at ``offset``; the kernel moves the bytes."""
    end = offset + size
    while offset < end:
        n = os.sendfile(out, in_fd, offset, end - offset)
        if n == 0:
            raise OSError(f"short read copying a file: {end - offset} bytes missing")
        offset += n


def _remove_existing(path: str, keep_dir: bool) -> bool:
    """Clear ``path`` for a new entry; True when a real directory was kept there."""
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return False
    if stat.S_ISDIR(st.st_mode):
        if keep_dir:
            return True
        shutil.rmtree(path)
    else:
        os.unlink(path)
    return False


def _remove_non_dir(path: str) -> None:
    _remove_existing(path, keep_dir=False)


def write_bytes(root: str, dest: str, data: bytes, owner: Owner, mode: int, mtime: float | None = None) -> None:
    """Write ``data`` as a new file at rootfs path ``dest`` (heredocs, URLs)."""
    host = resolve_in_root(root, posixpath.dirname(dest))
    target = os.path.join(host, posixpath.basename(dest))
    _remove_non_dir(target)
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(data)
        os.fchmod(f.fileno(), mode)
        os.fchown(f.fileno(), owner.uid, owner.gid)
    if mtime is not None:
        os.utime(target, (mtime, mtime))


def is_archive(path: str) -> bool:
    """ADD auto-extracts local tar archives (plain, gzip, bzip2, xz)."""
    try:
        return os.path.isfile(path) and tarfile.is_tarfile(path)
    except (OSError, tarfile.TarError):
        return False


def extract_archive(path: str, root: str, dest: str) -> None:
    """Unpack a local tar into rootfs dir ``dest``; members stay inside ``dest``."""
    base = posixpath.normpath("/" + dest)
    with tarfile.open(path, "r:*") as tar:
        for m in tar:
            name = posixpath.normpath("/" + m.name)
            if ".." in m.name.split("/"):
                raise InvalidArgument(f"ADD {os.path.basename(path)}: archive member {m.name!r} climbs out with '..'")
            target = posixpath.join(base, name.lstrip("/")) if name != "/" else base
            _extract_one(tar, m, root, base, target)


def _extract_one(tar: tarfile.TarFile, m: tarfile.TarInfo, root: str, base: str, target: str) -> None:
    owner = Owner(m.uid, m.gid)
    if m.isdir():
        host = make_dirs(root, target, owner, m.mode & 0o7777 or 0o755)
        os.chmod(host, m.mode & 0o7777)
        return
    make_dirs(root, posixpath.dirname(target), None)
    host = os.path.join(resolve_in_root(root, posixpath.dirname(target)), posixpath.basename(target))
    _remove_non_dir(host)
    if m.isreg():
        write_bytes(root, target, tar.extractfile(m).read(), owner, m.mode & 0o7777, m.mtime)
        return
    if m.issym():
        os.symlink(m.linkname, host)
    elif m.islnk():
        link_host = resolve_in_root(root, posixpath.join(base, posixpath.normpath("/" + m.linkname).lstrip("/")))
        os.link(link_host, host, follow_symlinks=False)
    else:
        return  # device nodes from an ADDed archive are not recreated
    os.lchown(host, owner.uid, owner.gid)
