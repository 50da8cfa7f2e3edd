"""COPY/ADD planning: what to copy, its cache fingerprint, and how to apply it.

``plan`` resolves sources before the cache lookup (the cache key covers the
content and metadata of every source file) and returns a ``CopyPlan`` whose
``apply(rootfs)`` does the copy into a mounted snapshot. Sources come from the
build context, from heredocs, from URLs (ADD), or from another stage or image
(``COPY --from``), which is mounted read-only for the copy.
"""
from __future__ import annotations

import hashlib
import os
import posixpath
import secrets
import shutil
import stat
import tempfile
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from dockyard.build import copier, users
from dockyard.build import instructions as I
from dockyard.build.context import Context, Source
from dockyard.build.state import StageState
from dockyard.errors import InvalidArgument, NotFound

if TYPE_CHECKING:
    from dockyard.build.builder import Builder

URL_TIMEOUT = 30


@dataclass
class CopyPlan:
    b: "Builder"
    st: StageState
    cmd: str
    dest: str
    dest_is_dir: bool
    chown: str = ""
    chmod: int | None = None
    context_sources: list[Source] = field(default_factory=list)
    heredocs: list[tuple[str, bytes]] = field(default_factory=list)
    downloads: list[tuple[str, str, float | None]] = field(default_factory=list)  # name, path, mtime
    from_image: str = ""
    from_patterns: list[str] = field(default_factory=list)
    files: dict[str, str] = field(default_factory=dict)
    instruction: str = ""
    created_by: str = ""
    tmpdir: str = ""

    def cleanup(self) -> None:
        if self.tmpdir:
            shutil.rmtree(self.tmpdir, ignore_errors=True)
            self.tmpdir = ""

    def apply(self, root: str) -> None:
        """Copy everything into the mounted rootfs at ``root``."""
        owner = users.resolve_owner(root, self.chown) if self.chown else copier.Owner()
        if self.dest_is_dir:
            copier.make_dirs(root, self.dest, owner)
        for name, data in self.heredocs:
            target = self._target(root, name)
            copier.make_dirs(root, posixpath.dirname(target), owner)
            copier.write_bytes(root, target, data, owner, self.chmod if self.chmod is not None else 0o644)
        for name, path, mtime in self.downloads:
            target = self._target(root, name)
            copier.make_dirs(root, posixpath.dirname(target), owner)
            with open(path, "rb") as f:
                copier.write_bytes(root, target, f.read(), owner,
                                   self.chmod if self.chmod is not None else 0o600, mtime)
        if self.context_sources:
            copy_sources(self.b.ctx, self.context_sources, root, self, owner)
        if self.from_image:
            self._copy_from_image(root, owner)

    def _target(self, root: str, name: str) -> str:
        if self.dest_is_dir or os.path.isdir(copier.resolve_in_root(root, self.dest)):
            return posixpath.join(self.dest, name)
        return self.dest

    def _copy_from_image(self, root: str, owner: copier.Owner) -> None:
        snaps = self.b.engine.snapshots
        key = "extract-build-from-" + secrets.token_hex(16)  # scratch: see layers.SCRATCH_KEY_PREFIX
        snaps.prepare(key, self.b.layers.top_chain(self.from_image))
        try:
            self.b.layers._mounted(key, lambda _k, src_root: self._copy_from_root(src_root, root, owner))
        finally:
            self.b.reaper.remove_snapshot(snaps, key)

    def _copy_from_root(self, src_root: str, root: str, owner: copier.Owner) -> None:
        src_ctx = Context(src_root, in_root=True)
        found = [s for p in self.from_patterns for s in src_ctx.resolve(p, "--from source")]
        copy_sources(src_ctx, found, root, self, owner)


def copy_sources(ctx: Context, srcs: list[Source], root: str, plan: CopyPlan, owner: copier.Owner) -> None:
    """Docker's rules: a directory's contents go into dest; a file goes to dest or dest/name."""
    for src in srcs:
        st = ctx.stat(src)
        if stat.S_ISDIR(st.st_mode):
            _copy_tree(ctx, src, root, plan, owner)
        elif plan.cmd == "add" and stat.S_ISREG(st.st_mode) and copier.is_archive(ctx.local_path(src)):
            copier.make_dirs(root, plan.dest, owner)
            copier.extract_archive(ctx.local_path(src), root, plan.dest)
        else:
            target = plan._target(root, posixpath.basename(src.rel))
            copier.make_dirs(root, posixpath.dirname(target) or "/", owner)
            copier.copy_entry(ctx.data(src), st, root, target, owner, plan.chmod)


def _copy_tree(ctx: Context, src: Source, root: str, plan: CopyPlan, owner: copier.Owner) -> None:
    """A directory's contents into dest; each directory is resolved in-root once."""
    hosts = {"": copier.make_dirs(root, plan.dest, owner)}
    for rel, full, lst in ctx.walk(src):
        if not rel:
            continue
        parent, name = posixpath.split(rel)
        if parent not in hosts:  # its directory was .dockerignored, an entry re-included
            hosts[parent] = copier.make_dirs(root, posixpath.join(plan.dest, parent), owner)
        target = os.path.join(hosts[parent], name)
        copier.place_entry(full, lst, target, owner, plan.chmod)
        if stat.S_ISDIR(lst.st_mode):
            hosts[rel] = target


def plan(b: "Builder", st: StageState, ins: I.Copy) -> CopyPlan:
    """Resolve an ADD/COPY's sources and fingerprint them for the cache."""
    env = st.substitution_env()
    raw_dest = b.expand(ins.dest, env)
    dest = raw_dest if raw_dest.startswith("/") else posixpath.join(st.config.get("WorkingDir") or "/", raw_dest)
    words = [b.expand(s, env) for s in ins.sources]
    multi = len(words) + len(ins.heredocs) > 1 or any(_has_magic(w) for w in words)
    dest_is_dir = raw_dest.endswith("/") or raw_dest in (".", "./")
    if multi and not dest_is_dir and len(words) > 1:
        raise InvalidArgument(f"When using {ins.cmd.upper()} with more than one source file, "
                              f"the destination must be a directory and end with a /")
    p = CopyPlan(b, st, ins.cmd, posixpath.normpath(dest), dest_is_dir or (multi and len(words) > 1))
    p.chown = b.expand(ins.flags.get("chown", ""), env)
    if "chmod" in ins.flags:
        p.chmod = int(ins.flags["chmod"], 8)
    try:
        _gather(p, b, ins, words, env)
    except BaseException:  # a failed download or source: no temp dir left in /tmp
        p.cleanup()
        raise
    flags = " ".join(f"--{k}={v}" for k, v in sorted(ins.flags.items()) if k != "from")
    src_text = " ".join(words + [h.name for h in ins.heredocs])
    origin = f"--from={p.from_image} " if p.from_image else ""
    p.instruction = f"{ins.cmd.upper()} {origin}{flags} {src_text} {dest}".replace("  ", " ")
    digest = hashlib.sha256(repr(sorted(p.files.items())).encode()).hexdigest()
    p.created_by = f"/bin/sh -c #(nop) {ins.cmd.upper()} {_kind(p)}:{digest} in {dest} "
    return p


def _gather(p: CopyPlan, b: "Builder", ins: I.Copy, words: list[str], env: dict) -> None:
    for h in ins.heredocs:
        data = (b.expand(h.content, env) if h.expand else h.content).encode()
        p.heredocs.append((h.name, data))
        p.files[f"<<{h.name}"] = hashlib.sha256(data).hexdigest()
    if "from" in ins.flags:
        name = b.expand(ins.flags["from"], env)
        stage = b.stage_by_name(name, required=False)
        image_id = stage.image_id if stage else _from_image(b, name)
        if not image_id:
            raise InvalidArgument(f"--from={name}: that stage has no filesystem (FROM scratch)")
        p.from_image, p.from_patterns = image_id, words
        p.files[f"image {name}"] = image_id
        return
    for w in words:
        if ins.cmd == "add" and _is_url(w):
            _download(p, w, ins.flags.get("checksum", ""))
            continue
        p.context_sources += b.ctx.resolve(w, f"{ins.cmd.upper()} source")
    p.files.update(b.ctx.digest_sources(p.context_sources))


def _from_image(b: "Builder", name: str) -> str:
    """``--from=<image>``: a plain word that is neither a stage nor a local image is taken
    for a misspelt stage (no pull); a name with a registry, path or tag may be pulled."""
    if not any(c in name for c in "/:.@"):
        try:
            return b.engine.images.get(name).id
        except NotFound:
            raise NotFound(f"--from={name}: unknown stage {name!r}: no stage of that name "
                           f"before this one, and no local image {name}") from None
    return b.image(name).id


def _download(p: CopyPlan, url: str, checksum: str) -> None:
    import email.utils  # only ADD <url> needs the HTTP client stack
    import urllib.error
    import urllib.parse
    import urllib.request
    if not p.tmpdir:
        p.tmpdir = tempfile.mkdtemp(prefix="dockyard-add-")
    path = os.path.join(p.tmpdir, secrets.token_hex(8))
    h = hashlib.sha256()
    try:
        with urllib.request.urlopen(url, timeout=URL_TIMEOUT) as resp, open(path, "wb") as out:
            while chunk := resp.read(1 << 20):
                h.update(chunk)
                out.write(chunk)
            modified = resp.headers.get("Last-Modified")
    except (urllib.error.URLError, OSError, ValueError) as e:
        reason = getattr(e, "reason", e)
        raise NotFound(f"ADD {url}: cannot fetch the URL: {reason}") from None
    if checksum and checksum != "sha256:" + h.hexdigest():
        raise InvalidArgument(f"ADD {url}: checksum mismatch: want {checksum}, got sha256:{h.hexdigest()}")
    mtime = email.utils.parsedate_to_datetime(modified).timestamp() if modified else None
    name = posixpath.basename(urllib.parse.urlparse(url).path) or "index.html"
    p.downloads.append((name, path, mtime))
    p.files[url] = h.hexdigest()


def _is_url(word: str) -> bool:
    return word.startswith(("http://", "https://"))


def _has_magic(word: str) -> bool:
    return any(c in word for c in "*?[")


def _kind(p: CopyPlan) -> str:
    if len(p.files) == 1 and p.context_sources and not os.path.isdir(p.context_sources[0].path):
        return "file"
    return "dir" if p.context_sources else "multi"
