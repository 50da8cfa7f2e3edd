"""Paths inside a root directory (a container's rootfs, a build context, a volume).

``resolve_in_root`` walks a path one component at a time the way the kernel would
inside a chroot: ``..`` stops at the root and every symlink, absolute or relative, is
resolved against the root, so the result never names anything outside it.
"""
from __future__ import annotations

import os

from dockyard.errors import InvalidArgument

MAX_LINKS = 40


def resolve_in_root(root: str, path: str, follow_last: bool = True) -> str:
    """Host path of ``path`` inside ``root``; the last component's symlink is followed
    only when ``follow_last`` (``cp`` of a link copies the link itself)."""
    return os.path.join(root, *resolve_parts(root, path, follow_last))


def resolve_parts(root: str, path: str, follow_last: bool = True) -> list[str]:
    """The components of ``path`` once its symlinks are resolved inside ``root``."""
    parts = [p for p in path.split("/") if p not in ("", ".")]
    done: list[str] = []
    links = 0
    while parts:
        part = parts.pop(0)
        if part == "..":
            if done:
                done.pop()
            continue
        try:
            target = os.readlink(os.path.join(root, *done, part))
        except OSError:  # not a symlink, or not there yet: keep the name
            done.append(part)
            continue
        if not parts and not follow_last:
            done.append(part)
            continue
        links += 1
        if links > MAX_LINKS:
            raise InvalidArgument(f"too many levels of symbolic links resolving {path}")
        if target.startswith("/"):
            done = []
        parts = [p for p in target.split("/") if p not in ("", ".")] + parts
    return done
