"""The client side of a build context: a directory → the tar ``POST /build`` takes.

As docker's CLI does, files matched by .dockerignore are left out, but the
Dockerfile and .dockerignore are always sent. A Dockerfile outside the context
directory is added under a generated name. Tar headers are made by hand (no
user/group name lookups per file) because this runs on every ``dockyard build``.
"""
from __future__ import annotations

import io
import os
import secrets
import stat
import tarfile

from dockyard.build import dockerignore


def _info(name: str, st: os.stat_result) -> tarfile.TarInfo:
    ti = tarfile.TarInfo(name)
    ti.mode = stat.S_IMODE(st.st_mode)
    ti.mtime = int(st.st_mtime)
    ti.uid, ti.gid = st.st_uid, st.st_gid
    return ti


def _add(tar: tarfile.TarFile, full: str, name: str, st: os.stat_result) -> None:
    ti = _info(name, st)
    if stat.S_ISDIR(st.st_mode):
        ti.type = tarfile.DIRTYPE
        tar.addfile(ti)
    elif stat.S_ISLNK(st.st_mode):
        ti.type, ti.linkname = tarfile.SYMTYPE, os.readlink(full)
        tar.addfile(ti)
    elif stat.S_ISREG(st.st_mode):
        ti.size = st.st_size
        with open(full, "rb") as f:
            tar.addfile(ti, f)


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


def context_tar(context_dir: str, dockerfile: str | None = None) -> tuple[bytes, str]:
    """(tar bytes, Dockerfile name inside the tar) for a directory context."""
    root = os.path.abspath(context_dir)
    df_path = os.path.abspath(dockerfile) if dockerfile else os.path.join(root, "Dockerfile")
    df_name = os.path.relpath(df_path, root)
    outside = df_name.startswith("..")
    if outside:
        df_name = f".dockerfile.{secrets.token_hex(10)}"
    added: set[str] = set()
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for rel, full in _included(root, dockerignore.load(root), {df_name, ".dockerignore"}):
            _add(tar, full, rel, os.lstat(full))
            added.add(rel)
        if outside or (df_name not in added and os.path.isfile(df_path)):
            _add(tar, df_path, df_name, os.stat(df_path))
    return buf.getvalue(), df_name


def dockerfile_only_tar(text: bytes) -> bytes:
    """``docker build - < Dockerfile``: a context holding just the Dockerfile."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        ti = tarfile.TarInfo("Dockerfile")
        ti.size, ti.mode = len(text), 0o644
        tar.addfile(ti, io.BytesIO(text))
    return buf.getvalue()


def looks_like_tar(data: bytes) -> bool:
    """A tar (ustar magic) or a compressed stream, as opposed to a bare Dockerfile."""
    return data[257:262] == b"ustar" or data[:2] == b"\x1f\x8b" or data[:3] == b"BZh" \
        or data[:6] == b"\xfd7zXZ\x00"
