"""OCI mount entries: option parsing and mounting them under the rootfs."""
from __future__ import annotations

import os

from dockyard.runtime import syscalls as sc
from dockyard.runtime.linux.paths import make_target, secure_join

# option -> (clear?, flag)
FLAGS = {
    "ro": (False, sc.MS_RDONLY), "rw": (True, sc.MS_RDONLY),
    "nosuid": (False, sc.MS_NOSUID), "suid": (True, sc.MS_NOSUID),
    "nodev": (False, sc.MS_NODEV), "dev": (True, sc.MS_NODEV),
    "noexec": (False, sc.MS_NOEXEC), "exec": (True, sc.MS_NOEXEC),
    "sync": (False, sc.MS_SYNCHRONOUS), "async": (True, sc.MS_SYNCHRONOUS),
    "dirsync": (False, sc.MS_DIRSYNC), "remount": (False, sc.MS_REMOUNT),
    "mand": (False, sc.MS_MANDLOCK), "nomand": (True, sc.MS_MANDLOCK),
    "atime": (True, sc.MS_NOATIME), "noatime": (False, sc.MS_NOATIME),
    "diratime": (True, sc.MS_NODIRATIME), "nodiratime": (False, sc.MS_NODIRATIME),
    "relatime": (False, sc.MS_RELATIME), "norelatime": (True, sc.MS_RELATIME),
    "strictatime": (False, sc.MS_STRICTATIME), "nostrictatime": (True, sc.MS_STRICTATIME),
    "bind": (False, sc.MS_BIND), "rbind": (False, sc.MS_BIND | sc.MS_REC),
    "nosymfollow": (False, sc.MS_NOSYMFOLLOW),
}
PROPAGATION = {
    "private": sc.MS_PRIVATE, "rprivate": sc.MS_PRIVATE | sc.MS_REC,
    "shared": sc.MS_SHARED, "rshared": sc.MS_SHARED | sc.MS_REC,
    "slave": sc.MS_SLAVE, "rslave": sc.MS_SLAVE | sc.MS_REC,
    "unbindable": sc.MS_UNBINDABLE, "runbindable": sc.MS_UNBINDABLE | sc.MS_REC,
}
# flags that a bind mount only honours on a second, remount pass
_BIND_REMOUNT = (sc.MS_RDONLY | sc.MS_NOSUID | sc.MS_NODEV | sc.MS_NOEXEC | sc.MS_NOATIME
                 | sc.MS_NODIRATIME | sc.MS_RELATIME | sc.MS_STRICTATIME | sc.MS_NOSYMFOLLOW)


def parse_options(options: list[str]) -> tuple[int, list[int], str]:
    """(mount flags, propagation flags, data string) from OCI mount options."""
    flags, propagation, data = 0, [], []
    for opt in options:
        if opt in FLAGS:
            clear, flag = FLAGS[opt]
            flags = flags & ~flag if clear else flags | flag
        elif opt in PROPAGATION:
            propagation.append(PROPAGATION[opt])
        elif opt in ("rro", "rrw", "idmap", "ridmap", "tmpcopyup"):
            continue  # recursive/idmapped variants: not supported on this kernel path
        else:
            data.append(opt)
    return flags, propagation, ",".join(data)


def mount_entry(rootfs: str, entry: dict, cgroup_mounter=None) -> None:
    """Mount one OCI mount entry under ``rootfs``."""
    kind = entry.get("type") or ""
    flags, propagation, data = parse_options(entry.get("options") or [])
    source = entry.get("source") or kind or "none"
    dest = secure_join(rootfs, entry["destination"])
    if kind == "cgroup":
        make_target(dest, True)
        cgroup_mounter(dest, flags)
        return
    is_bind = bool(flags & sc.MS_BIND) or kind == "bind"
    if is_bind:
        flags |= sc.MS_BIND
        if not os.path.exists(source):
            raise OSError(2, "mount: bind source does not exist", source)
        make_target(dest, os.path.isdir(source))
    else:
        make_target(dest, True)
    _mount(source, dest, kind, flags, data, is_bind)
    for prop in propagation:
        sc.get().mount(None, dest, None, prop)


def _mount(source: str, dest: str, kind: str, flags: int, data: str, is_bind: bool) -> None:
    sys_ = sc.get()
    if not is_bind:
        sys_.mount(source, dest, kind, flags, data or None)
        return
    sys_.mount(source, dest, None, flags & (sc.MS_BIND | sc.MS_REC), data or None)
    if flags & _BIND_REMOUNT:
        # a bind mount ignores ro/nosuid/... until remounted; keep the source's
        # locked flags (nodev etc. in a user namespace) by reading them back
        extra = _locked_flags(dest)
        sys_.mount(None, dest, None, sc.MS_REMOUNT | sc.MS_BIND | (flags & _BIND_REMOUNT) | extra)


def _locked_flags(path: str) -> int:
    """Flags already on the mount at ``path`` that a remount must keep."""
    try:
        st = os.statvfs(path)
    except OSError:
        return 0
    keep = 0
    for bit, flag in ((os.ST_NOSUID, sc.MS_NOSUID), (os.ST_NODEV, sc.MS_NODEV),
                      (os.ST_NOEXEC, sc.MS_NOEXEC)):
        if st.f_flag & bit:
            keep |= flag
    return keep


def bind_readonly(path: str) -> None:
    """Make ``path`` (already inside the container root) a read-only bind of itself."""
    sys_ = sc.get()
    sys_.mount(path, path, None, sc.MS_BIND | sc.MS_REC)
    sys_.mount(None, path, None, sc.MS_REMOUNT | sc.MS_BIND | sc.MS_RDONLY | sc.MS_REC
               | _locked_flags(path))
