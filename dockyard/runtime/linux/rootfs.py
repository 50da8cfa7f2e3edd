"""Prepare the container's root filesystem inside its new mount namespace.

Runs in the container init (C) before pivot_root, in this order: stop mount
events leaking to the host (rslave), bind the rootfs onto itself (pivot_root
needs a mount point), the config's mounts, /dev nodes and links, then
pivot_root. After it: sysctls, masked and read-only paths, read-only root.
"""
from __future__ import annotations

import errno
import os
import stat

from dockyard.runtime import syscalls as sc
from dockyard.runtime.linux import mounts
from dockyard.runtime.linux.paths import make_target, secure_join

DEFAULT_DEVICES = [  # (path, major, minor) of the char devices every container gets
    ("/dev/null", 1, 3), ("/dev/zero", 1, 5), ("/dev/full", 1, 7),
    ("/dev/random", 1, 8), ("/dev/urandom", 1, 9), ("/dev/tty", 5, 0),
]
DEV_LINKS = [("/proc/self/fd", "/dev/fd"), ("/proc/self/fd/0", "/dev/stdin"),
             ("/proc/self/fd/1", "/dev/stdout"), ("/proc/self/fd/2", "/dev/stderr")]


def prepare(config: dict, cgroup_mounter, in_userns: bool) -> None:
    """Everything up to (not including) pivot_root, in the container's mount ns."""
    sys_ = sc.get()
    rootfs = config["root"]["path"]
    linux = config.get("linux") or {}
    prop = mounts.PROPAGATION.get(linux.get("rootfsPropagation") or "",
                                  sc.MS_SLAVE | sc.MS_REC)
    sys_.mount(None, "/", None, prop)
    sys_.mount(rootfs, rootfs, None, sc.MS_BIND | sc.MS_REC)
    dev_is_bind = False
    for entry in config.get("mounts") or []:
        mounts.mount_entry(rootfs, entry, cgroup_mounter)
        if entry["destination"].rstrip("/") == "/dev":
            dev_is_bind = "bind" in (entry.get("options") or []) or entry.get("type") == "bind"
    if not dev_is_bind:
        make_devices(rootfs, linux.get("devices") or [], in_userns)


def make_devices(rootfs: str, extra: list[dict], in_userns: bool) -> None:
    """Create the default and configured device nodes, and /dev's symlinks."""
    for path, major, minor in DEFAULT_DEVICES:
        _device(rootfs, {"path": path, "type": "c", "major": major, "minor": minor,
                         "fileMode": 0o666, "uid": 0, "gid": 0}, in_userns)
    for dev in extra:
        _device(rootfs, dev, in_userns)
    for target, link in DEV_LINKS + _optional_links(rootfs):
        path = secure_join(rootfs, link)
        if not os.path.lexists(path):
            os.symlink(target, path)


def _optional_links(rootfs: str) -> list[tuple[str, str]]:
    links = []
    if os.path.exists("/proc/kcore"):
        links.append(("/proc/kcore", "/dev/core"))
    if os.path.isdir(secure_join(rootfs, "/dev/pts")):
        links.append(("pts/ptmx", "/dev/ptmx"))
    return links


def _device(rootfs: str, dev: dict, in_userns: bool) -> None:
    path = secure_join(rootfs, dev["path"])
    kind = {"c": stat.S_IFCHR, "u": stat.S_IFCHR, "b": stat.S_IFBLK, "p": stat.S_IFIFO}
    mode = kind[dev.get("type", "c")] | (dev.get("fileMode") or 0o666)
    if in_userns:  # mknod is not allowed in a user namespace: bind the host's node
        make_target(path, False)
        sc.get().mount(dev["path"], path, None, sc.MS_BIND)
        return
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
    os.makedirs(os.path.dirname(path), exist_ok=True)
    try:
        os.mknod(path, mode, os.makedev(dev.get("major", 0), dev.get("minor", 0)))
    except OSError as e:
        raise OSError(e.errno, "mknod: " + (e.strerror or ""), path) from None
    os.chown(path, dev.get("uid") or 0, dev.get("gid") or 0)
    os.chmod(path, mode & 0o7777)


def pivot(rootfs: str, no_pivot: bool = False) -> None:
    """Make ``rootfs`` the root and detach the host's root from the namespace.

    pivot_root(".", ".") stacks the old root on top of the new one at "/"; we
    then make it rslave (so unmounting does not propagate to the host) and
    detach it. Where pivot_root is impossible (a rootfs on the initramfs, or
    ``--no-pivot``) fall back to MS_MOVE + chroot; that leaves the old root
    mounted underneath, which is why it is only a fallback.
    """
    sys_ = sc.get()
    if not no_pivot:
        try:
            _pivot_root(rootfs)
            return
        except OSError as e:
            if e.errno != errno.EINVAL:
                raise
    os.chdir(rootfs)
    sys_.mount(rootfs, "/", None, sc.MS_MOVE)
    sys_.chroot(".")
    os.chdir("/")


def _pivot_root(rootfs: str) -> None:
    sys_ = sc.get()
    old = os.open("/", os.O_DIRECTORY | os.O_RDONLY | os.O_CLOEXEC)
    try:
        os.chdir(rootfs)
        sys_.pivot_root(".", ".")
        os.fchdir(old)
        sys_.mount(None, ".", None, sc.MS_SLAVE | sc.MS_REC)
        sys_.umount2(".", sc.MNT_DETACH)
    finally:
        os.close(old)  # never let a host directory fd reach the container
    os.chdir("/")


def finish(config: dict) -> None:
    """After pivot_root: sysctls, masked and read-only paths, read-only root."""
    linux = config.get("linux") or {}
    for key, value in (linux.get("sysctl") or {}).items():
        path = "/proc/sys/" + key.replace(".", "/")
        try:
            with open(path, "w") as f:
                f.write(str(value))
        except OSError as e:
            raise OSError(e.errno, "write sysctl: " + (e.strerror or ""), path) from None
    for path in linux.get("readonlyPaths") or []:
        _readonly(path)
    for path in linux.get("maskedPaths") or []:
        mask_path(path)
    if (config.get("root") or {}).get("readonly"):
        sc.get().mount(None, "/", None, sc.MS_REMOUNT | sc.MS_BIND | sc.MS_RDONLY
                       | mounts._locked_flags("/"))


def _readonly(path: str) -> None:
    try:
        mounts.bind_readonly(path)
    except OSError as e:
        if e.errno != errno.ENOENT:
            raise


def mask_path(path: str) -> None:
    """Hide ``path``: /dev/null over a file, an empty read-only tmpfs over a dir."""
    sys_ = sc.get()
    try:
        sys_.mount("/dev/null", path, None, sc.MS_BIND)
    except OSError as e:
        if e.errno == errno.ENOENT:
            return
        if e.errno != errno.ENOTDIR:
            raise
        sys_.mount("tmpfs", path, "tmpfs", sc.MS_RDONLY)
