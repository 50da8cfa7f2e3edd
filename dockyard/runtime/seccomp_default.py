"""docker's default seccomp profile semantics, as an OCI ``linux.seccomp`` object.

The data file ``seccomp.json`` (in this package) lists rules in docker's profile
format: ``names``, ``action``, ``args``, and ``includes``/``excludes`` by
capability and architecture. :func:`default_profile` evaluates those against a
capability set and the host architecture and returns plain OCI rules, which is
what the engine puts in config.json.

Semantics kept from docker: unknown syscalls fail with EPERM; namespace and
mount syscalls (mount, unshare, setns, clone with namespace flags, ...) only
with CAP_SYS_ADMIN; per-capability groups (chroot, module loading, ptrace
family, clock setting, ...); AF_VSOCK sockets refused; personality limited to
the harmless values. The file was generated once by :func:`regenerate` from
the allow list in Debian's containers-common profile, adjusted to docker's
capability gating.
"""
from __future__ import annotations

import os

from dockyard.runtime import jsonio
from dockyard.runtime.linux.caps import DOCKER_DEFAULT

DATA = os.path.join(os.path.dirname(__file__), "seccomp.json")
# seccomp architecture names per machine, and docker's short arch names
ARCHES = {
    "x86_64": (["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"], {"amd64", "x32", "x86"}),
    "aarch64": (["SCMP_ARCH_AARCH64", "SCMP_ARCH_ARM"], {"arm64", "arm"}),
}
# docker allows these only to a container holding CAP_SYS_ADMIN
SYS_ADMIN_ONLY = [
    "bpf", "clone", "clone3", "fanotify_init", "fsconfig", "fsmount", "fsopen", "fspick",
    "lookup_dcookie", "mount", "mount_setattr", "move_mount", "open_tree", "perf_event_open",
    "quotactl", "quotactl_fd", "setdomainname", "sethostname", "setns", "syslog", "umount",
    "umount2", "unshare",
]
# docker denies the kernel keyring outright: keys are not namespaced
DOCKER_DENIED = ["keyctl", "add_key", "request_key"]
CLONE_NS_MASK = 2114060288  # CLONE_NEWNS|NEWUTS|NEWIPC|NEWUSER|NEWPID|NEWNET|NEWCGROUP


def _applies(rule: dict, caps: set[str], arches: set[str]) -> bool:
    inc, exc = rule.get("includes") or {}, rule.get("excludes") or {}
    if inc.get("caps") and not set(inc["caps"]) <= caps:
        return False
    if inc.get("arches") and not set(inc["arches"]) & arches:
        return False
    if exc.get("caps") and set(exc["caps"]) & caps:
        return False
    if exc.get("arches") and set(exc["arches"]) & arches:
        return False
    return True


def default_profile(caps: list[str] | None = None, machine: str | None = None) -> dict:
    """The OCI linux.seccomp object docker would use for a container with ``caps``.

    Args:
        caps: the container's capabilities (default: docker's default set).
        machine: ``os.uname().machine`` of the target (default: this host).
    """
    with open(DATA, "rb") as f:
        data = jsonio.loads(f.read())
    capset = set(DOCKER_DEFAULT if caps is None else caps)
    arch_names, short = ARCHES.get(machine or os.uname().machine, ARCHES["x86_64"])
    syscalls = []
    for rule in data["syscalls"]:
        if not _applies(rule, capset, short):
            continue
        out = {"names": rule["names"], "action": rule["action"]}
        if rule.get("errnoRet") is not None:
            out["errnoRet"] = rule["errnoRet"]
        if rule.get("args"):
            out["args"] = rule["args"]
        syscalls.append(out)
    return {"defaultAction": data["defaultAction"], "defaultErrnoRet": data["defaultErrnoRet"],
            "architectures": arch_names, "syscalls": syscalls}


def regenerate(source: str = "/usr/share/containers/seccomp.json", dest: str = DATA) -> None:
    """Rebuild ``seccomp.json`` from a containers-common profile (docker format).

    Keeps its unconditional allow list minus docker's CAP_SYS_ADMIN-only calls,
    its argument, arch and capability rules, and re-adds docker's gating.
    """
    import json
    with open(source) as f:
        src = json.load(f)
    rules = []
    for rule in src["syscalls"]:
        if rule["action"] == "SCMP_ACT_ERRNO" and not rule.get("excludes"):
            continue  # explicit denials: the default action already denies
        names = [n for n in rule["names"] if n not in DOCKER_DENIED
                 and (n not in SYS_ADMIN_ONLY or rule.get("includes"))]
        if rule.get("excludes") and rule["action"] == "SCMP_ACT_ERRNO":
            continue  # "deny unless cap": same as not allowing, under default EPERM
        if names:
            r = {k: v for k, v in rule.items() if v not in ({}, [], None, "") and k != "comment"}
            r["names"] = names
            r.pop("errno", None)
            rules.append(r)
    rules += [
        {"names": SYS_ADMIN_ONLY, "action": "SCMP_ACT_ALLOW",
         "includes": {"caps": ["CAP_SYS_ADMIN"]}},
        {"names": ["clone"], "action": "SCMP_ACT_ALLOW",
         "args": [{"index": 0, "value": CLONE_NS_MASK, "valueTwo": 0,
                   "op": "SCMP_CMP_MASKED_EQ"}],
         "excludes": {"caps": ["CAP_SYS_ADMIN"], "arches": ["s390", "s390x"]}},
        {"names": ["clone3"], "action": "SCMP_ACT_ERRNO", "errnoRet": 38,
         "excludes": {"caps": ["CAP_SYS_ADMIN"]}},
        {"names": ["socket"], "action": "SCMP_ACT_ALLOW",
         "args": [{"index": 0, "value": 40, "valueTwo": 0, "op": "SCMP_CMP_NE"}]},
        {"names": ["ptrace", "process_vm_readv", "process_vm_writev"],
         "action": "SCMP_ACT_ALLOW"},
    ]
    rules = [r for r in rules if not (r["names"] == ["socket"] and "includes" in r)]
    out = {"defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": 1, "syscalls": rules}
    with open(dest, "w") as f:
        json.dump(out, f, indent=1)
        f.write("\n")
