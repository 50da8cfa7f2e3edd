"""What ``dockyard-runtime features`` reports (runc's features JSON shape)."""
from __future__ import annotations

from dockyard.runtime.linux import caps
from dockyard.runtime.linux.mounts import FLAGS, PROPAGATION
from dockyard.runtime.spec import HOOK_KINDS, NAMESPACES


def features() -> dict:
    from dockyard.runtime.linux.seccomp import ACTIONS, OPS
    return {
        "ociVersionMin": "1.0.0",
        "ociVersionMax": "1.1.0",
        "hooks": list(HOOK_KINDS),
        "mountOptions": sorted(set(FLAGS) | set(PROPAGATION)),
        "linux": {
            "namespaces": sorted(NAMESPACES - {"time"}),
            "capabilities": caps.NAMES[: caps.last_cap() + 1],
            "cgroup": {"v1": True, "v2": True, "systemd": False, "systemdUser": False},
            "seccomp": {"enabled": True, "actions": ACTIONS, "operators": sorted(OPS),
                        "archs": ["SCMP_ARCH_X86", "SCMP_ARCH_X86_64", "SCMP_ARCH_X32",
                                  "SCMP_ARCH_AARCH64", "SCMP_ARCH_ARM"]},
            "apparmor": {"enabled": False},
            "selinux": {"enabled": False},
        },
        "annotations": {"org.dockyard.runtime": "dockyard-runtime"},
    }
