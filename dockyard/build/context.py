"""The build context: a directory (or a tar extracted into a private temp dir).

Safety rules: tar members with absolute names or ``..`` are rejected, nothing is
written through a symlink, and a COPY/ADD source must resolve (lexically and
through symlinks) to a path inside the context. Content hashes are computed once
per file and memoized; a tar context is hashed while it is being extracted.
"""
from __future__ import annotations

import glob
import hashlib
import os
import posixpath
import stat
import tarfile
from dataclasses import dataclass
from typing import BinaryIO, Iterator

from dockyard.build import copier, dockerignore
from dockyard.errors import InvalidArgument, NotFound

CHUNK = 1 << 20


@dataclass
class Source:
    """One resolved COPY/ADD source: ``rel`` inside the context, ``path`` on disk."""

    rel: str
    path: str


class Context:
    """A build context rooted at ``root`` with its .dockerignore matcher."""

    def __init__(self, root: str, hashes: dict[str, str] | None = None, in_root: bool = False):
        """``in_root``: ``root`` is an image's rootfs (COPY --from), whose absolute
        symlinks mean paths inside it; it has no .dockerignore."""
        self.root = os.path.realpath(root)
        self.in_root = in_root
        self.matcher = dockerignore.Matcher([]) if in_root else dockerignore.load(self.root)
        self._hashes: dict[str, str] = dict(hashes or {})
        self._walks: dict[tuple[str, str], list] = {}

    def read_file(self, name: str, what: str = "Dockerfile") -> str:
        """A file's text (the Dockerfile is read even when .dockerignore lists it)."""
        path = self._contained(name, what)
        try:
            with open(path, encoding="utf-8") as f:
                return f.read()
        except (FileNotFoundError, IsADirectoryError):
            raise NotFound(f"{what} {name} not found in the build context") from None

    def _contained(self, rel: str, what: str) -> str:
        """Absolute path of ``rel`` after resolving symlinks; must stay inside root."""
        norm = posixpath.normpath(rel)
        if norm == ".." or norm.startswith("../"):
            raise InvalidArgument(f"{what} {rel} is outside the build context")
        clean = norm.lstrip("/")
        if self.in_root:
            return copier.resolve_in_root(self.root, clean)
        path = os.path.join(self.root, clean)
        real = os.path.realpath(path)
        if real != self.root and not real.startswith(self.root + os.sep):
            raise InvalidArgument(f"{what} {rel} is a symlink pointing outside the build context")
        return real

    def resolve(self, pattern: str, what: str = "source") -> list[Source]:
        """Context entries matching a COPY source (wildcards allowed); never empty."""
        norm = posixpath.normpath(pattern.lstrip("/")) if pattern not in ("", ".") else "."
        if norm == ".." or norm.startswith("../"):
            raise InvalidArgument(f"{what} {pattern} is outside the build context")
        if glob.has_magic(norm):
            rels = sorted(os.path.relpath(p, self.root) for p in
                          glob.glob(os.path.join(self.root, norm), include_hidden=True))
        else:
            rels = [norm] if os.path.lexists(os.path.join(self.root, norm)) else []
        out = []
        for rel in rels:
            if rel != "." and self.matcher.excluded(rel):
                continue
            out.append(Source(rel, self._contained(rel, what)))
        if not out:
            raise NotFound(f"{what} {pattern} not found in the build context"
                           + (" (or excluded by .dockerignore)" if self.matcher else ""))
        return out

    def walk(self, src: Source) -> list[tuple[str, str, os.stat_result]]:
        """(rel path under src, absolute path, lstat) of src and everything below it.

        Memoized: a step walks its sources once to fingerprint them and once to copy.
        """
        key = (src.rel, src.path)
        if key not in self._walks:
            self._walks[key] = list(self._walk(src))
        return self._walks[key]

    def _walk(self, src: Source) -> Iterator[tuple[str, str, os.stat_result]]:
        st = os.stat(src.path)
        yield "", src.path, st
        if not stat.S_ISDIR(st.st_mode):
            return
        base_rel = "" if src.rel == "." else src.rel
        for dirpath, dirs, files in os.walk(src.path):
            for name in sorted(dirs + files):
                full = os.path.join(dirpath, name)
                rel = os.path.relpath(full, src.path)
                ctx_rel = posixpath.join(base_rel, rel) if base_rel else rel
                if self.matcher and self.matcher.excluded(ctx_rel):
                    if name in dirs and not self.matcher.may_include_below(ctx_rel):
                        dirs.remove(name)
                    continue
                yield rel, full, os.lstat(full)
            dirs.sort()

    def file_hash(self, path: str) -> str:
        """sha256 of a regular file's content, computed once per context."""
        rel = os.path.relpath(path, self.root)
        h = self._hashes.get(rel)
        if h is None:
            h = self._hashes[rel] = _sha256_file(path)
        return h

    def digest_sources(self, sources: list[Source]) -> dict[str, str]:
        """Per-file fingerprints (content hash + mode/uid/gid) of everything copied."""
        out: dict[str, str] = {}
        for src in sources:
            for rel, full, st in self.walk(src):
                key = posixpath.join(src.rel, rel) if rel else src.rel
                out[key] = self._fingerprint(full, st)
        return out

    def _fingerprint(self, full: str, st: os.stat_result) -> str:
        meta = f"{stat.S_IMODE(st.st_mode):o}:{st.st_uid}:{st.st_gid}"
        if stat.S_ISREG(st.st_mode):
            return f"file:{meta}:{self.file_hash(full)}"
        if stat.S_ISLNK(st.st_mode):
            return f"link:{meta}:{os.readlink(full)}"
        return f"{'dir' if stat.S_ISDIR(st.st_mode) else 'other'}:{meta}"


def _sha256_file(path: str) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(CHUNK):
            h.update(chunk)
    return h.hexdigest()


def extract_tar(fileobj: BinaryIO, dest: str) -> dict[str, str]:
    """Extract a context tar stream into the empty private dir ``dest``.

    Returns the sha256 of every regular file (hashed while written). Raises
    InvalidArgument for a member that is absolute, climbs out with ``..``, or would
    be written through a symlink.
    """
    hashes: dict[str, str] = {}
    dest = os.path.realpath(dest)
    try:
        tar = tarfile.open(fileobj=fileobj, mode="r|*")
    except tarfile.TarError as e:
        raise InvalidArgument(f"build context is not a valid tar archive: {e}") from None
    with tar:
        try:
            for member in tar:
                _extract_member(tar, member, dest, hashes)
        except tarfile.TarError as e:
            raise InvalidArgument(f"build context tar is corrupt: {e}") from None
    return hashes


def _member_path(name: str, dest: str) -> tuple[str, str]:
    if name.startswith("/") or ".." in name.split("/"):
        raise InvalidArgument(f"build context tar member {name!r}: absolute or '..' paths are not allowed")
    rel = posixpath.normpath(name)
    if rel == ".":
        return rel, dest
    parent = os.path.realpath(os.path.join(dest, posixpath.dirname(rel)))
    if parent != dest and not parent.startswith(dest + os.sep):
        raise InvalidArgument(f"build context tar member {name!r} would be written through a symlink")
    return rel, os.path.join(parent, posixpath.basename(rel))


def _extract_member(tar: tarfile.TarFile, m: tarfile.TarInfo, dest: str, hashes: dict) -> None:
    rel, path = _member_path(m.name, dest)
    if rel == ".":
        return
    os.makedirs(os.path.dirname(path), exist_ok=True)
    if m.isdir():
        if not os.path.isdir(path) or os.path.islink(path):
            _remove(path)
            os.mkdir(path)
        os.chmod(path, m.mode & 0o7777 | 0o700)
        return
    _remove(path)
    if m.isreg():
        hashes[rel] = _write_file(tar.extractfile(m), path, m.mode & 0o7777)
    elif m.issym():
        os.symlink(m.linkname, path)
    elif m.islnk():
        _hardlink(m, path, dest, hashes, rel)
    else:
        return  # devices and fifos have no place in a build context
    if not m.issym():
        os.utime(path, (m.mtime, m.mtime), follow_symlinks=False)


def _write_file(src: BinaryIO, path: str, mode: int) -> str:
    h = hashlib.sha256()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    with os.fdopen(fd, "wb") as out:
        while chunk := src.read(CHUNK):
            h.update(chunk)
            out.write(chunk)
    os.chmod(path, mode)
    return h.hexdigest()


def _hardlink(m: tarfile.TarInfo, path: str, dest: str, hashes: dict, rel: str) -> None:
    target_rel, target = _member_path(m.linkname, dest)
    if os.path.islink(target) or not os.path.isfile(target):
        raise InvalidArgument(f"build context tar member {m.name!r}: hard link to {m.linkname!r} "
                              f"which is not a regular file in the context")
    os.link(target, path)
    if target_rel in hashes:
        hashes[rel] = hashes[target_rel]


def _remove(path: str) -> None:
    if os.path.lexists(path) and not (os.path.isdir(path) and not os.path.islink(path)):
        os.unlink(path)
