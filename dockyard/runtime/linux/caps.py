"""Capabilities: names, masks, and applying the five sets of an OCI process.

Order matters (as in runc's finalizeNamespace): drop the bounding set while we
still hold CAP_SETPCAP, keep the permitted set across the uid change
(PR_SET_KEEPCAPS), then capset effective/permitted/inheritable, then raise the
ambient ones.
"""
from __future__ import annotations

from dockyard.errors import InvalidArgument
from dockyard.runtime import syscalls as sc

NAMES = [
    "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER", "CAP_FSETID",
    "CAP_KILL", "CAP_SETGID", "CAP_SETUID", "CAP_SETPCAP", "CAP_LINUX_IMMUTABLE",
    "CAP_NET_BIND_SERVICE", "CAP_NET_BROADCAST", "CAP_NET_ADMIN", "CAP_NET_RAW",
    "CAP_IPC_LOCK", "CAP_IPC_OWNER", "CAP_SYS_MODULE", "CAP_SYS_RAWIO", "CAP_SYS_CHROOT",
    "CAP_SYS_PTRACE", "CAP_SYS_PACCT", "CAP_SYS_ADMIN", "CAP_SYS_BOOT", "CAP_SYS_NICE",
    "CAP_SYS_RESOURCE", "CAP_SYS_TIME", "CAP_SYS_TTY_CONFIG", "CAP_MKNOD", "CAP_LEASE",
    "CAP_AUDIT_WRITE", "CAP_AUDIT_CONTROL", "CAP_SETFCAP", "CAP_MAC_OVERRIDE",
    "CAP_MAC_ADMIN", "CAP_SYSLOG", "CAP_WAKE_ALARM", "CAP_BLOCK_SUSPEND", "CAP_AUDIT_READ",
    "CAP_PERFMON", "CAP_BPF", "CAP_CHECKPOINT_RESTORE",
]
NUMBERS = {name: i for i, name in enumerate(NAMES)}
SETS = ("bounding", "effective", "permitted", "inheritable", "ambient")

# docker's default capability set (moby oci/caps/defaults.go)
DOCKER_DEFAULT = [
    "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FSETID", "CAP_FOWNER", "CAP_MKNOD",
    "CAP_NET_RAW", "CAP_SETGID", "CAP_SETUID", "CAP_SETFCAP", "CAP_SETPCAP",
    "CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT", "CAP_KILL", "CAP_AUDIT_WRITE",
]


_last_cap: int | None = None


def last_cap() -> int:
    """The highest capability number this kernel knows (read once, before any
    pivot_root: the container's /proc may hide it)."""
    global _last_cap
    if _last_cap is None:
        try:
            with open("/proc/sys/kernel/cap_last_cap") as f:
                _last_cap = int(f.read())
        except OSError:
            _last_cap = len(NAMES) - 1
    return _last_cap


def mask(names: list[str], field: str, top: int) -> int:
    """Bit mask of ``names``; unknown names fail, ones the kernel lacks are skipped."""
    bits = 0
    for i, name in enumerate(names):
        number = NUMBERS.get(name)
        if number is None:
            raise InvalidArgument(f"config.json: {field}[{i}]: unknown capability {name!r}")
        if number <= top:
            bits |= 1 << number
    return bits


def masks(caps: dict | None, prefix: str = "process.capabilities") -> dict[str, int]:
    """The five sets as bit masks; an absent set is empty (the OCI default)."""
    caps = caps or {}
    top = last_cap()
    return {s: mask(caps.get(s) or [], f"{prefix}.{s}", top) for s in SETS}


def drop_bounding(bounding: int) -> None:
    """Drop every capability not in ``bounding`` from the bounding set."""
    sys_ = sc.get()
    for number in range(last_cap() + 1):
        if not bounding & (1 << number):
            sys_.prctl(sc.PR_CAPBSET_DROP, number)


def apply(sets: dict[str, int]) -> None:
    """capset effective/permitted/inheritable, then raise the ambient set."""
    sys_ = sc.get()
    sys_.capset(sets["effective"], sets["permitted"], sets["inheritable"])
    for number in range(last_cap() + 1):
        if sets["ambient"] & (1 << number):
            sys_.prctl(sc.PR_CAP_AMBIENT, sc.PR_CAP_AMBIENT_RAISE, number)
