"""Mounting a build step's snapshot, fast.

A build step's upper dir is scratch: after the step, its changes are diffed into a
layer blob (fsynced by the content store) and the snapshot is removed. So the
overlay is mounted ``volatile`` (Linux ≥ 5.10), which skips overlayfs' sync of the
whole upper filesystem on unmount — that sync cost ~70 ms per step here. The mount
is one mount(2) call, not a ``mount`` process.
"""
from __future__ import annotations

import ctypes
import os

MS_BIND, MS_REC = 4096, 16384
MNT_DETACH = 2
_libc = ctypes.CDLL(None, use_errno=True)


def _mount(source: str, target: str, fstype: str | None, flags: int, data: str | None) -> None:
    if _libc.mount(source.encode(), target.encode(), fstype.encode() if fstype else None,
                   ctypes.c_ulong(flags), data.encode() if data else None) != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"mount: {os.strerror(err)}", target)


def mount_snapshot(snapshots, key: str, target: str) -> None:
    """Mount active snapshot ``key`` (from ``snapshots.mounts(key)``) on ``target``."""
    m = snapshots.mounts(key)
    if m["type"] == "bind":
        _mount(m["source"], target, None, MS_BIND | MS_REC, None)
        return
    options = ",".join(m["options"])
    try:
        _mount("overlay", target, "overlay", 0, options + ",volatile")
    except OSError as e:
        if e.errno != 22:  # EINVAL: a kernel without volatile; mount it the durable way
            raise
        _mount("overlay", target, "overlay", 0, options)


def umount(path: str) -> None:
    """Unmount ``path`` (lazily if it is busy)."""
    if _libc.umount2(path.encode(), 0) != 0:
        if _libc.umount2(path.encode(), MNT_DETACH) != 0:
            err = ctypes.get_errno()
            raise OSError(err, f"umount2: {os.strerror(err)}", path)
