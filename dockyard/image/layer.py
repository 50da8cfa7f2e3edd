"""Apply a layer tar onto a snapshot's upper directory, in overlayfs format.

OCI whiteouts become what overlayfs reads: ``.wh.x`` → a 0/0 character device ``x``,
``.wh..wh..opq`` → xattr ``trusted.overlay.opaque=y`` on the directory. Modes,
ownership, mtimes, xattrs, symlinks, hardlinks and device nodes are kept.

Containment (the tar is untrusted): member names are cleaned like docker does (absolute
names are taken relative to the target; a ``..`` that would climb out is an error);
every parent directory is checked with lstat to be a real directory, never a symlink,
in this layer and in the layers below (a symlinked parent would let a later member
write outside); files are created with O_EXCL|O_NOFOLLOW; hardlink sources go through
the same checks. No syscall ever follows a symlink the tar made.
"""
from __future__ import annotations

import errno
import os
import shutil
import stat

from dockyard.errors import InvalidArgument
from dockyard.image.tarstream import TarFormatError, TarStream

WHITEOUT_PREFIX = ".wh."
OPAQUE = ".wh..wh..opq"
OPAQUE_XATTR = "trusted.overlay.opaque"
_XATTR_PAX = "SCHILY.xattr."
_COPY_CHUNK = 1 << 20
_OWNER = (os.geteuid(), os.getegid())


def _read_umask() -> int:
    """The process umask, read without changing it (os.umask would race other threads)."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except OSError:
        pass
    return 0o022


_UMASK = _read_umask()


class LayerError(InvalidArgument):
    """A layer member that cannot be applied safely; the message names the member."""


def clean_parts(name: str, what: str = "layer member") -> list[str]:
    """Path components of a tar member name, contained in the target (docker's rule)."""
    parts: list[str] = []
    for p in name.split("/"):
        if p in ("", "."):
            continue
        if p == "..":
            if not parts:
                raise LayerError(f"{what} {name!r}: path escapes the target directory")
            parts.pop()
        else:
            parts.append(p)
    return parts


class Applier:
    """Writes the members of one layer tar under ``root`` (the upper dir)."""

    def __init__(self, root: str, lowerdirs: list[str] | None = None):
        self.root = root
        self.lowers = lowerdirs or []
        self.dirs: set[str] = {""}     # rel paths known to be real directories in root
        self.dir_times: list[tuple[str, float]] = []
        self.size = 0

    # -- path checks -------------------------------------------------------------------
    def _path(self, rel: str) -> str:
        return os.path.join(self.root, rel) if rel else self.root

    def _ensure_parents(self, parts: list[str], member: str) -> str:
        """Make sure every parent of ``parts`` is a real directory; return parent rel path."""
        parent = "/".join(parts[:-1])
        if parent in self.dirs:  # the common case: the tar listed the directory first
            return parent
        rel = ""
        for p in parts[:-1]:
            rel = f"{rel}/{p}" if rel else p
            if rel in self.dirs:
                continue
            try:
                st = os.lstat(self._path(rel))
            except FileNotFoundError:
                self._implicit_dir(rel, member)
            else:
                if not stat.S_ISDIR(st.st_mode):
                    raise LayerError(f"layer member {member!r}: parent {rel!r} is "
                                     f"{'a symlink' if stat.S_ISLNK(st.st_mode) else 'not a directory'}")
            self.dirs.add(rel)
        return rel

    def _lower_stat(self, rel: str) -> os.stat_result | None:
        """lstat of ``rel`` in the top-most lower layer that has it."""
        for lower in self.lowers:
            try:
                return os.lstat(os.path.join(lower, rel))
            except (FileNotFoundError, NotADirectoryError):
                continue
        return None

    def _implicit_dir(self, rel: str, member: str) -> None:
        """Create a parent the tar did not list, copying its metadata from below."""
        st = self._lower_stat(rel)
        if st is not None and not stat.S_ISDIR(st.st_mode):
            raise LayerError(f"layer member {member!r}: parent {rel!r} is a "
                             f"{'symlink' if stat.S_ISLNK(st.st_mode) else 'non-directory'}"
                             " in a lower layer")
        os.mkdir(self._path(rel), 0o755)
        if st is not None:
            os.chown(self._path(rel), st.st_uid, st.st_gid)
            os.chmod(self._path(rel), stat.S_IMODE(st.st_mode))
            self.dir_times.append((rel, st.st_mtime))

    def _clear(self, rel: str, keep_dir: bool) -> None:
        """Remove what is at ``rel`` (a later tar entry replaces an earlier one)."""
        path = self._path(rel)
        try:
            st = os.lstat(path)
        except FileNotFoundError:
            return
        if stat.S_ISDIR(st.st_mode):
            if keep_dir:
                return
            shutil.rmtree(path)
            prefix = rel + "/"
            self.dirs = {d for d in self.dirs if d != rel and not d.startswith(prefix)}
        else:
            os.unlink(path)

    # -- members -----------------------------------------------------------------------
    def apply(self, tf: TarStream) -> int:
        """Apply every member of ``tf``; return the content size (sum of file sizes)."""
        for m in tf:
            self.member(tf, m)
        for rel, mtime in reversed(self.dir_times):
            os.utime(self._path(rel), (mtime, mtime), follow_symlinks=False)
        return self.size

    def member(self, tf: TarStream, m) -> None:
        parts = clean_parts(m.name)
        base = parts[-1] if parts else ""
        if base.startswith(WHITEOUT_PREFIX):
            self._whiteout(parts, m.name)
            return
        if not parts:  # "./": the root directory's own metadata
            if m.isdir():
                self._set_meta("", m)
                self.dir_times.append(("", m.mtime))
            return
        parent = self._ensure_parents(parts, m.name)
        rel = f"{parent}/{base}" if parent else base
        try:
            try:
                self._create(tf, m, rel)
            except FileExistsError:  # a later entry replaces an earlier one (tar semantics)
                self._clear(rel, keep_dir=m.isdir())
                self._create(tf, m, rel)
        except OSError as e:
            raise LayerError(f"layer member {m.name!r}: {e.strerror or e}") from e

    def _create(self, tf: TarStream, m, rel: str) -> None:
        path = self._path(rel)
        if m.isreg():
            self._write_file(tf, m, path)
            return
        if m.isdir():
            try:
                os.mkdir(path, m.mode & 0o777)
            except FileExistsError:
                if not stat.S_ISDIR(os.lstat(path).st_mode):
                    raise
            self.dirs.add(rel)
            self.dir_times.append((rel, m.mtime))
        elif m.issym():
            os.symlink(m.linkname, path)
        elif m.islnk():
            self._hardlink(m, path)
            return
        elif m.ischr() or m.isblk():
            kind = stat.S_IFCHR if m.ischr() else stat.S_IFBLK
            os.mknod(path, kind | 0o600, os.makedev(m.devmajor, m.devminor))
        elif m.isfifo():
            os.mkfifo(path, 0o600)
        else:
            raise LayerError(f"layer member {m.name!r}: unsupported tar entry type {m.type!r}")
        self._set_meta(rel, m)

    def _write_file(self, tf: TarStream, m, path: str) -> None:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC,
                     m.mode & 0o777)
        try:
            remaining = m.size
            while remaining > 0:
                data = tf.read_data(min(_COPY_CHUNK, remaining))
                _write_all(fd, data)
                remaining -= len(data)
            # Skip the syscalls that would change nothing (most files: root-owned, 0644/0755).
            if (m.uid, m.gid) != _OWNER:
                os.fchown(fd, m.uid, m.gid)
            if m.mode & 0o7000 or m.mode & _UMASK or (m.uid, m.gid) != _OWNER:
                os.fchmod(fd, m.mode & 0o7777)
            if m.pax_headers:
                self._set_xattrs(fd, m)
            os.utime(fd, (m.mtime, m.mtime))
        finally:
            os.close(fd)
        self.size += m.size

    def _hardlink(self, m, path: str) -> None:
        parts = clean_parts(m.linkname, f"hardlink target of {m.name!r}:")
        if not parts:
            raise LayerError(f"layer member {m.name!r}: hardlink to the root directory")
        self._check_real_parents(parts, m.name, self.root)
        src = os.path.join(self.root, *parts)
        if os.path.lexists(src):
            os.link(src, path, follow_symlinks=False)
            return
        for lower in self.lowers:  # the target lives in a lower layer: copy it up
            self._check_real_parents(parts, m.name, lower)
            lsrc = os.path.join(lower, *parts)
            if os.path.lexists(lsrc):
                shutil.copy2(lsrc, path, follow_symlinks=False)
                st = os.lstat(lsrc)
                os.chown(path, st.st_uid, st.st_gid, follow_symlinks=False)
                return
        raise LayerError(f"layer member {m.name!r}: hardlink target {m.linkname!r} not found")

    def _check_real_parents(self, parts: list[str], member: str, root: str) -> None:
        rel = root
        for p in parts[:-1]:
            rel = os.path.join(rel, p)
            try:
                st = os.lstat(rel)
            except (FileNotFoundError, NotADirectoryError):
                return
            if not stat.S_ISDIR(st.st_mode):
                raise LayerError(f"layer member {member!r}: hardlink target goes through "
                                 f"non-directory {os.path.relpath(rel, root)!r}")

    def _whiteout(self, parts: list[str], name: str) -> None:
        parent = self._ensure_parents(parts, name)
        if parts[-1] == OPAQUE:
            os.setxattr(self._path(parent), OPAQUE_XATTR, b"y")
            return
        if parts[-1].startswith(WHITEOUT_PREFIX * 2):
            return  # aufs metadata (.wh..wh.plnk etc.), meaningless here
        target = parts[-1][len(WHITEOUT_PREFIX):]
        if not target or target in (".", ".."):
            raise LayerError(f"layer member {name!r}: invalid whiteout")
        rel = f"{parent}/{target}" if parent else target
        if os.path.lexists(self._path(rel)):
            return  # a whiteout never hides what its own layer adds
        os.mknod(self._path(rel), stat.S_IFCHR | 0o600, os.makedev(0, 0))

    def _set_meta(self, rel: str, m) -> None:
        path = self._path(rel)
        if (m.uid, m.gid) != _OWNER:
            os.chown(path, m.uid, m.gid, follow_symlinks=False)
        if not m.issym():
            os.chmod(path, m.mode & 0o7777)
        if m.pax_headers:
            self._set_xattrs(path, m)
        if not m.isdir():
            os.utime(path, (m.mtime, m.mtime), follow_symlinks=False)

    def _set_xattrs(self, target, m) -> None:
        for key, value in m.pax_headers.items():
            if not key.startswith(_XATTR_PAX):
                continue
            name = key[len(_XATTR_PAX):]
            if name.startswith("trusted.overlay."):
                continue  # a layer must not forge overlayfs' own metadata
            raw = value.encode("utf-8", "surrogateescape")
            try:
                if isinstance(target, int):
                    os.setxattr(target, name, raw)
                else:
                    os.setxattr(target, name, raw, follow_symlinks=False)
            except OSError as e:
                if e.errno not in (errno.ENOTSUP, errno.EPERM, errno.EOPNOTSUPP):
                    raise


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        n = os.write(fd, view)
        view = view[n:]


def apply_tar(stream, root: str, lowerdirs: list[str] | None = None) -> int:
    """Apply the uncompressed layer tar ``stream`` onto ``root``; return its content size.

    Raises:
        LayerError: a member is unsafe or the tar is corrupt (message names the member).
    """
    try:
        return Applier(root, lowerdirs).apply(TarStream(stream))
    except TarFormatError as e:
        raise LayerError(str(e)) from None
