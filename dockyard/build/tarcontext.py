"""A build context kept as the tar it arrived in: indexed, never extracted.

``POST /build`` bodies are spooled to one file (decompressed if need be) and indexed:
each member's offset, metadata and sha256. COPY then copies straight from the tar
file (``sendfile`` at the member's offset). Compared with extracting, this saves
creating and later deleting a file per context file, which is most of the cost of a
big context here. The rules are the directory context's (``context.Context``):

- members with absolute names or ``..`` are refused, hard links must name an earlier
  regular file; a later member with the same name replaces an earlier one;
- paths resolve through the tar's own symlinks, and a symlink that leads out of the
  context (absolute, or ``..`` above the root) makes a source that uses it an error;
- .dockerignore is read from the tar; the Dockerfile is readable even when ignored.
"""
from __future__ import annotations

import fnmatch
import os
import posixpath
import stat
from dataclasses import dataclass
from typing import BinaryIO

from dockyard.build import dockerignore, tarindex
from dockyard.build.tarindex import spool  # noqa: F401  (part of this module's API)
from dockyard.build.context import Source
from dockyard.errors import InvalidArgument, NotFound

MAX_LINKS = 40


@dataclass
class Entry:
    kind: str  # "f" file, "d" dir, "l" symlink
    mode: int
    uid: int = 0
    gid: int = 0
    mtime: float = 0.0
    size: int = 0
    offset: int = 0
    linkname: str = ""
    sha: str = ""


@dataclass
class TarData:
    """Where a file's bytes are: ``size`` bytes at ``offset`` in ``fd``."""

    fd: int
    offset: int
    size: int
    linkname: str = ""


class _FdReader:
    """``read`` over a file descriptor (no buffering layer: the tar reader reads big)."""

    def __init__(self, fd: int):
        self.fd = fd

    def read(self, n: int = -1) -> bytes:
        return os.read(self.fd, n if n >= 0 else 1 << 30)


class TarContext:
    """Context operations (resolve, walk, digest, read) over an indexed tar file."""

    def __init__(self, tar_path: str, body: BinaryIO | None = None):
        """Index the tar at ``tar_path``; with ``body``, first write it there (the
        request body, decompressed), indexing while it arrives."""
        self.tar_path = tar_path
        self.root = os.path.dirname(tar_path)
        self.in_root = False
        self.fd = -1
        self.entries: dict[str, Entry] = {"": Entry("d", 0o755)}
        self.children: dict[str, set[str]] = {"": set()}
        try:
            if body is None:
                self.fd = os.open(tar_path, os.O_RDONLY | os.O_CLOEXEC)
                self._index(_FdReader(self.fd))
            else:
                self._receive(body)
            self.matcher = self._load_ignore()
        except BaseException:
            self.close()
            raise
        self._walks: dict[tuple[str, str], list] = {}
        self._local: dict[str, str] = {}

    def close(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1

    # -- indexing ------------------------------------------------------------------
    def _receive(self, body: BinaryIO) -> None:
        out = os.open(self.tar_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
        try:
            tee = tarindex.Tee(tarindex.open_body(body), out)
            self._index(tee)
            tee.drain()  # the whole body is read, as before: the connection stays usable
        finally:
            os.close(out)
        self.fd = os.open(self.tar_path, os.O_RDONLY | os.O_CLOEXEC)

    def _index(self, src) -> None:
        for m, offset, sha in tarindex.members(src):
            self._add(m, offset, sha)

    def _add(self, m, offset: int, sha: str) -> None:
        if m.name.startswith("/") or ".." in m.name.split("/"):
            raise InvalidArgument(f"build context tar member {m.name!r}: absolute or '..' paths are not allowed")
        rel = posixpath.normpath(m.name)
        if rel == ".":
            return
        meta = dict(mode=m.mode & 0o7777, uid=m.uid, gid=m.gid, mtime=float(m.mtime))
        if m.isdir():
            entry = Entry("d", **meta)
        elif m.isreg():
            entry = Entry("f", size=m.size, offset=offset, sha=sha, **meta)
        elif m.issym():
            entry = Entry("l", linkname=m.linkname, **meta)
        elif m.islnk():
            entry = self._hardlink(m, meta)
        else:
            return  # devices and fifos have no place in a build context
        self._put(rel, entry)

    def _hardlink(self, m, meta: dict) -> Entry:
        target = self.entries.get(posixpath.normpath(m.linkname))
        if target is None or target.kind != "f":
            raise InvalidArgument(f"build context tar member {m.name!r}: hard link to {m.linkname!r} "
                                  f"which is not a regular file in the context")
        return Entry("f", size=target.size, offset=target.offset, sha=target.sha, **meta)

    def _put(self, rel: str, entry: Entry) -> None:
        parent, name = posixpath.split(rel)
        if parent and self.entries.get(parent, Entry("f", 0)).kind != "d":
            self._put(parent, Entry("d", 0o755))  # tars may leave out directory members
        if entry.kind == "d":
            self.children.setdefault(rel, set())
        else:
            self.children.pop(rel, None)  # a file replacing a directory hides what was in it
        self.entries[rel] = entry
        self.children[parent].add(name)

    def _load_ignore(self) -> dockerignore.Matcher:
        e = self.entries.get(".dockerignore")
        if e is None or e.kind != "f":
            return dockerignore.Matcher([])
        return dockerignore.Matcher(dockerignore.read_patterns(self._bytes(e).decode("utf-8", "replace")))

    def _bytes(self, e: Entry) -> bytes:
        return os.pread(self.fd, e.size, e.offset) if e.size else b""

    # -- paths ---------------------------------------------------------------------
    def real(self, rel: str, what: str, shown: str) -> str:
        """``rel`` with every symlink resolved inside the context; raises if it leaves."""
        parts, out, links = rel.split("/"), [], 0
        while parts:
            part = parts.pop(0)
            if part in ("", "."):
                continue
            if part == "..":
                if not out:
                    raise InvalidArgument(f"{what} {shown} is a symlink pointing outside the build context")
                out.pop()
                continue
            entry = self.entries.get("/".join(out + [part]))
            if entry is not None and entry.kind == "l":
                links += 1
                if links > MAX_LINKS or entry.linkname.startswith("/"):
                    raise InvalidArgument(f"{what} {shown} is a symlink pointing outside the build context")
                parts = entry.linkname.split("/") + parts
                continue
            out.append(part)
        return "/".join(out)

    def read_file(self, name: str, what: str = "Dockerfile") -> str:
        norm = posixpath.normpath(name).lstrip("/")
        if norm == ".." or norm.startswith("../"):
            raise InvalidArgument(f"{what} {name} is outside the build context")
        e = self.entries.get(self.real(norm, what, name))
        if e is None or e.kind != "f":
            raise NotFound(f"{what} {name} not found in the build context")
        return self._bytes(e).decode("utf-8")

    def resolve(self, pattern: str, what: str = "source") -> list[Source]:
        """Context entries matching a COPY source (wildcards allowed); never empty."""
        norm = posixpath.normpath(pattern.lstrip("/")) if pattern not in ("", ".") else "."
        if norm == ".." or norm.startswith("../"):
            raise InvalidArgument(f"{what} {pattern} is outside the build context")
        rels = self._glob(norm, what, pattern) if any(c in norm for c in "*?[") else [norm]
        out = []
        for rel in rels:
            if rel != "." and self.matcher.excluded(rel):
                continue
            real = self.real(rel if rel != "." else "", what, pattern)
            if real in self.entries:
                out.append(Source(rel, real))
        if not out:
            raise NotFound(f"{what} {pattern} not found in the build context"
                           + (" (or excluded by .dockerignore)" if self.matcher else ""))
        return out

    def _glob(self, norm: str, what: str, shown: str) -> list[str]:
        found = [""]
        for comp in norm.split("/"):
            nxt = []
            for base in found:
                real = self.real(base, what, shown)
                names = sorted(self.children.get(real, ())) if any(c in comp for c in "*?[") else [comp]
                nxt += [posixpath.join(base, n) for n in names if fnmatch.fnmatchcase(n, comp)]
            found = nxt
        return sorted(found)

    # -- entries -------------------------------------------------------------------
    def stat(self, src: Source) -> os.stat_result:
        return _stat(self.entries[src.path])

    def data(self, src: Source) -> TarData:
        e = self.entries[src.path]
        return TarData(self.fd, e.offset, e.size, e.linkname)

    def local_path(self, src: Source) -> str:
        """The file as a real file (ADD's archive check and extraction need one)."""
        path = self._local.get(src.path)
        if path is None:
            path = self._local[src.path] = os.path.join(self.root, f"member-{len(self._local)}")
            with open(path, "wb") as f:
                f.write(self._bytes(self.entries[src.path]))
        return path

    def walk(self, src: Source) -> list[tuple[str, TarData, os.stat_result]]:
        """(rel under src, data, stat) of src and everything below it, like Context.walk."""
        key = (src.rel, src.path)
        if key not in self._walks:
            self._walks[key] = list(self._walk(src))
        return self._walks[key]

    def _walk(self, src: Source):
        yield "", self.data(src), self.stat(src)
        base_rel = "" if src.rel == "." else src.rel
        stack = [""]
        while stack:
            rel_dir = stack.pop()
            real_dir = posixpath.join(src.path, rel_dir) if rel_dir else src.path
            for name in sorted(self.children.get(real_dir, ())):
                rel = posixpath.join(rel_dir, name) if rel_dir else name
                ctx_rel = posixpath.join(base_rel, rel) if base_rel else rel
                entry = self.entries[posixpath.join(real_dir, name) if real_dir else name]
                if self.matcher and self.matcher.excluded(ctx_rel):
                    if entry.kind == "d" and self.matcher.may_include_below(ctx_rel):
                        stack.append(rel)
                    continue
                yield rel, TarData(self.fd, entry.offset, entry.size, entry.linkname), _stat(entry)
                if entry.kind == "d":
                    stack.append(rel)

    def digest_sources(self, sources: list[Source]) -> dict[str, str]:
        """Per-file fingerprints (content hash + mode/uid/gid) of everything copied."""
        out: dict[str, str] = {}
        for src in sources:
            for rel, data, st in self.walk(src):
                key = posixpath.join(src.rel, rel) if rel else src.rel
                out[key] = _fingerprint(st, self.entries, src, rel)
        return out


def _fingerprint(st: os.stat_result, entries: dict, src: Source, rel: str) -> str:
    meta = f"{stat.S_IMODE(st.st_mode):o}:{st.st_uid}:{st.st_gid}"
    if stat.S_ISREG(st.st_mode):
        return f"file:{meta}:{_entry_of(entries, src, rel).sha}"
    if stat.S_ISLNK(st.st_mode):
        return f"link:{meta}:{_entry_of(entries, src, rel).linkname}"
    return f"dir:{meta}"


def _entry_of(entries: dict, src: Source, rel: str) -> Entry:
    return entries[posixpath.join(src.path, rel) if rel and src.path else (rel or src.path)]


_KIND = {"f": stat.S_IFREG, "d": stat.S_IFDIR, "l": stat.S_IFLNK}


def _stat(e: Entry) -> os.stat_result:
    ns = int(e.mtime * 1e9)
    return os.stat_result((_KIND[e.kind] | e.mode, 0, 0, 1, e.uid, e.gid, e.size,
                           int(e.mtime), int(e.mtime), int(e.mtime),
                           e.mtime, e.mtime, e.mtime, ns, ns, ns))
