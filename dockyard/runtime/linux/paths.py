"""Resolve container paths inside the rootfs without escaping it through symlinks.

``secure_join("/rootfs", "/etc/../../x")`` is ``/rootfs/x``; a symlink
``/rootfs/a -> /etc`` makes ``a/passwd`` resolve to ``/rootfs/etc/passwd``, never
the host's /etc (the symlink-exchange attacks on mount destinations).
"""
from __future__ import annotations

import errno
import os
import stat

_MAX_LINKS = 255


def secure_join(root: str, unsafe: str) -> str:
    """``root``/``unsafe`` with every symlink resolved as if ``root`` were ``/``."""
    parts = [p for p in unsafe.split("/") if p]
    resolved: list[str] = []
    links = 0
    while parts:
        part = parts.pop(0)
        if part == ".":
            continue
        if part == "..":
            if resolved:
                resolved.pop()
            continue
        full = os.path.join(root, *resolved, part)
        try:
            st = os.lstat(full)
        except FileNotFoundError:
            resolved.append(part)
            continue
        if not stat.S_ISLNK(st.st_mode):
            resolved.append(part)
            continue
        links += 1
        if links > _MAX_LINKS:
            raise OSError(errno.ELOOP, "secure_join: too many symlinks", full)
        target = os.readlink(full)
        if target.startswith("/"):
            resolved = []
        parts = [p for p in target.split("/") if p] + parts
    return os.path.join(root, *resolved)


def make_target(path: str, is_dir: bool) -> None:
    """Create a mount point: a directory, or an empty file for a file bind mount."""
    if os.path.lexists(path):
        return
    if is_dir:
        os.makedirs(path, 0o755, exist_ok=True)
        return
    os.makedirs(os.path.dirname(path), 0o755, exist_ok=True)
    os.close(os.open(path, os.O_CREAT | os.O_WRONLY | os.O_CLOEXEC, 0o644))
