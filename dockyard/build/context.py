"""A directory build context (in-process builds; COPY --from reads an image's
rootfs through it too). Contexts that arrive as a tar are ``tarcontext.TarContext``.

A COPY/ADD source must resolve, lexically and through symlinks, to a path inside
the context. Content hashes are computed once per file and memoized.
"""
from __future__ import annotations

import fnmatch
import glob
import hashlib
import os
import posixpath
import stat
from dataclasses import dataclass
from typing import Iterator

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
        if self.in_root:  # an image rootfs: its symlinks mean paths inside it
            rels = self._glob_in_root(norm) if glob.has_magic(norm) else \
                [norm] if os.path.lexists(copier.resolve_in_root(self.root, norm)) else []
        elif glob.has_magic(norm):
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

    def _glob_in_root(self, norm: str) -> list[str]:
        """Wildcards matched one component at a time, each directory resolved in-root."""
        found = [""]
        for comp in norm.split("/"):
            nxt = []
            for base in found:
                if not glob.has_magic(comp):
                    nxt.append(posixpath.join(base, comp))
                    continue
                try:
                    names = os.listdir(copier.resolve_in_root(self.root, base))
                except (NotADirectoryError, FileNotFoundError):
                    continue
                nxt += [posixpath.join(base, n) for n in sorted(names) if fnmatch.fnmatchcase(n, comp)]
            found = nxt
        return [p for p in found if os.path.lexists(copier.resolve_in_root(self.root, p))]

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

    def stat(self, src: Source) -> os.stat_result:
        return os.stat(src.path)

    def data(self, src: Source) -> str:
        """What ``copier.place_entry`` copies from: here, the file's path."""
        return src.path

    def local_path(self, src: Source) -> str:
        return src.path

    def close(self) -> None:
        pass

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
