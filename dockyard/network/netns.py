"""Persistent network namespaces and running code inside them (the syscall seam).

A container's netns is a file under ``<exec_root>/netns/<id>`` with the namespace
bind-mounted on it (what ``ip netns add`` does), so it outlives any process and the
runtime joins it by path. Creating one forks nothing: a short-lived helper thread
unshares its own network namespace (network namespaces are per thread in Linux),
bind-mounts ``/proc/self/task/<tid>/ns/net`` onto the file and exits.

:func:`run_in` runs a function in such a thread after ``setns()`` into a namespace;
a netlink socket opened there stays bound to that namespace, which is how the
container side of a veth is configured without pyroute2's forking ``NetNS``.
"""
from __future__ import annotations

import ctypes
import errno
import os
import threading
from typing import Callable, TypeVar

T = TypeVar("T")

CLONE_NEWNET = 0x40000000
MS_BIND = 4096
MNT_DETACH = 2

_libc = ctypes.CDLL(None, use_errno=True)


def _check(ret: int, call: str, path: str) -> None:
    if ret != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"{call}: {os.strerror(err)}", path)


def _in_thread(fn: Callable[[], T]) -> T:
    """Run ``fn`` in a fresh thread (whose namespace changes die with it); re-raise its error."""
    box: dict = {}

    def body() -> None:
        try:
            box["value"] = fn()
        except BaseException as e:  # handed back to the caller's thread
            box["error"] = e

    thread = threading.Thread(target=body, name="netns")
    thread.start()
    thread.join()
    if "error" in box:
        raise box["error"]
    return box["value"]


def create(path: str) -> str:
    """Create a new, empty network namespace pinned at ``path``; returns ``path``."""
    os.makedirs(os.path.dirname(path), mode=0o711, exist_ok=True)
    os.close(os.open(path, os.O_RDONLY | os.O_CREAT | os.O_EXCL, 0o444))

    def pin() -> None:
        _check(_libc.unshare(CLONE_NEWNET), "unshare(CLONE_NEWNET)", path)
        source = f"/proc/self/task/{threading.get_native_id()}/ns/net"
        _check(_libc.mount(source.encode(), path.encode(), None, MS_BIND, None), "mount", path)

    try:
        _in_thread(pin)
    except BaseException:
        os.unlink(path)
        raise
    return path


def adopt(spare: str, path: str) -> str:
    """Pin the namespace pinned at ``spare`` at ``path`` instead (a bind mount of the
    nsfs file, then ``spare`` is unpinned); returns ``path``. Cheaper than :func:`create`
    (no namespace is made here), which is what a spare made ahead of need is for."""
    os.makedirs(os.path.dirname(path), mode=0o711, exist_ok=True)
    os.close(os.open(path, os.O_RDONLY | os.O_CREAT | os.O_EXCL, 0o444))
    try:
        _check(_libc.mount(spare.encode(), path.encode(), None, MS_BIND, None), "mount", path)
    except BaseException:
        os.unlink(path)
        raise
    remove(spare)
    return path


def is_netns(path: str) -> bool:
    """True when ``path`` is a pinned network namespace (a file on nsfs)."""
    try:
        return os.stat(path).st_dev == os.stat("/proc/self/ns/net").st_dev
    except OSError:
        return False


def remove(path: str) -> None:
    """Unpin and delete ``path``; a missing or already unmounted file is fine."""
    if _libc.umount2(path.encode(), MNT_DETACH) != 0:
        err = ctypes.get_errno()
        if err not in (errno.EINVAL, errno.ENOENT):
            raise OSError(err, f"umount2: {os.strerror(err)}", path)
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass


def run_in(path: str, fn: Callable[[], T]) -> T:
    """Call ``fn()`` in a helper thread that has joined the network namespace at ``path``."""

    def enter() -> T:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
        try:
            _check(_libc.setns(fd, CLONE_NEWNET), "setns(CLONE_NEWNET)", path)
        finally:
            os.close(fd)
        return fn()

    return _in_thread(enter)
