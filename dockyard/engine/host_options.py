"""HostConfig settings beyond resources, as dockerd applies them to the OCI config:
Ulimits, Sysctls, ShmSize, GroupAdd, OomScoreAdj, OomKillDisable, Devices and the
PidMode / IpcMode / UTSMode namespace modes.

``check(hc)`` validates at create (docker's 400 messages) and normalises in place;
``apply(config, hc, ...)`` edits a built OCI config. Pure apart from ``device()``,
which stats the host's device node.
"""
from __future__ import annotations

import os
import stat

from dockyard.errors import InvalidArgument

RLIMITS = ("as", "core", "cpu", "data", "fsize", "locks", "memlock", "msgqueue", "nice",
           "nofile", "nproc", "rss", "rtprio", "rttime", "sigpending", "stack")
# docker's namespaced sysctls (opts/opts.go ValidateSysctl): these, fs.mqueue.*, net.*
IPC_SYSCTLS = ("kernel.msgmax", "kernel.msgmnb", "kernel.msgmni", "kernel.sem",
               "kernel.shmall", "kernel.shmmax", "kernel.shmmni", "kernel.shm_rmid_forced")
DEFAULT_SHM = 64 * 1024 * 1024


def _int(value, field: str) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise InvalidArgument(f"invalid {field}: {value!r} is not an integer") from None


def check(hc: dict) -> None:
    """Validate (400 with docker's words) and normalise ``hc`` in place."""
    for u in hc.get("Ulimits") or []:
        name = (u.get("Name") or "") if isinstance(u, dict) else ""
        if name not in RLIMITS:
            raise InvalidArgument(f"invalid ulimit type: {name}")
        soft = _int(u.get("Soft", 0), f"Ulimits {name} Soft")
        hard = _int(u.get("Hard", 0), f"Ulimits {name} Hard")
        if soft > hard:
            raise InvalidArgument(f"ulimit soft limit must be less than or equal to hard "
                                  f"limit: {soft} > {hard}")
    for key in hc.get("Sysctls") or {}:
        _check_sysctl(key, hc)
    shm = hc.get("ShmSize")
    if shm is not None and _int(shm, "ShmSize") < 0:
        raise InvalidArgument("SHM size can not be less than 0")
    adj = hc.get("OomScoreAdj") or 0
    if not -1000 <= _int(adj, "OomScoreAdj") <= 1000:
        raise InvalidArgument(f"Invalid value {adj}, range for oom score adj is [-1000, 1000]")
    for d in hc.get("Devices") or []:
        perms = d.get("CgroupPermissions") or "rwm"
        if not perms or set(perms) - set("rwm"):
            raise InvalidArgument(f"invalid device mode: {perms}")
        if not (d.get("PathOnHost") or "").startswith("/"):
            raise InvalidArgument(f"invalid device path: {d.get('PathOnHost')!r} is not "
                                  "an absolute path")
    for key, allowed in (("PidMode", ("", "host")), ("IpcMode", ("", "host", "private",
                                                                   "shareable", "none")),
                         ("UTSMode", ("", "host"))):
        mode = hc.get(key) or ""
        if mode not in allowed and not (key != "UTSMode" and mode.startswith("container:")
                                         and len(mode) > len("container:")):
            raise InvalidArgument(f"invalid {key.replace('Mode', '').upper()} mode: {mode}")


def namespaced_sysctl(key: str) -> bool:
    """docker's rule: only sysctls of the container's own IPC or network namespace."""
    return key in IPC_SYSCTLS or key.startswith(("fs.mqueue.", "net."))


def _check_sysctl(key: str, hc: dict) -> None:
    ipc = key in IPC_SYSCTLS or key.startswith("fs.mqueue.")
    if not namespaced_sysctl(key):
        raise InvalidArgument(f"sysctl '{key}' is not allowed")
    if ipc and hc.get("IpcMode") == "host":
        raise InvalidArgument(f"sysctl '{key}' is not allowed in host IPC namespace")
    net = hc.get("NetworkMode") or ""
    if key.startswith("net.") and (net == "host" or net.startswith("container:")):
        raise InvalidArgument(f"sysctl '{key}' is not allowed in host network namespace"
                              if net == "host" else
                              f"sysctl '{key}' is not allowed when joining another "
                              "container's network namespace")


def rlimits(hc: dict) -> list[dict]:
    return [{"type": "RLIMIT_" + u["Name"].upper(), "soft": int(u.get("Soft", 0)),
             "hard": int(u.get("Hard", 0))} for u in hc.get("Ulimits") or []]


def device(d: dict) -> tuple[dict, dict]:
    """A ``--device`` entry → (OCI linux.devices entry, cgroup allow rule)."""
    host = d["PathOnHost"]
    inside = d.get("PathInContainer") or host
    perms = d.get("CgroupPermissions") or "rwm"
    try:
        st = os.stat(host)
    except OSError as e:
        raise InvalidArgument(f"error gathering device information while adding custom "
                              f"device \"{host}\": {e.strerror.lower()}") from None
    if stat.S_ISCHR(st.st_mode):
        kind = "c"
    elif stat.S_ISBLK(st.st_mode):
        kind = "b"
    else:
        raise InvalidArgument(f"error gathering device information while adding custom "
                              f"device \"{host}\": not a device node")
    major, minor = os.major(st.st_rdev), os.minor(st.st_rdev)
    return ({"path": inside, "type": kind, "major": major, "minor": minor,
             "fileMode": stat.S_IMODE(st.st_mode), "uid": st.st_uid, "gid": st.st_gid},
            {"allow": True, "type": kind, "major": major, "minor": minor, "access": perms})


def group_ids(names: list[str], groups: list[list[str]]) -> list[int]:
    """``--group-add`` names or numbers → gids, through the container's /etc/group."""
    out = []
    for g in names or []:
        g = str(g)
        ent = next((e for e in groups if e[0] == g), None)
        if ent is not None:
            out.append(int(ent[2]))
        elif g.isdigit():
            out.append(int(g))
        else:
            raise InvalidArgument(f"Unable to find group {g}: no matching entries in group "
                                  "file")
    return out


def apply(config: dict, hc: dict, ns_paths: dict, groups: list[list[str]],
          shm_source: str | None = None) -> None:
    """Edit the OCI ``config`` for these settings. ``ns_paths``: {"pid"|"ipc": path} of
    another container's namespaces to join ("container:<id>" modes); ``shm_source``: a
    host tmpfs to bind as /dev/shm (``--ipc shareable``, or the donor's when joining)."""
    proc, lin = config["process"], config["linux"]
    proc["rlimits"] = rlimits(hc)
    if hc.get("OomScoreAdj"):
        proc["oomScoreAdj"] = int(hc["OomScoreAdj"])
    extra = group_ids(hc.get("GroupAdd") or [], groups)
    if extra:
        user = proc.setdefault("user", {})
        user["additionalGids"] = sorted(set(user.get("additionalGids") or []) | set(extra))
    if hc.get("Sysctls"):
        lin["sysctl"] = {**(lin.get("sysctl") or {}), **hc["Sysctls"]}
    if hc.get("OomKillDisable"):
        lin.setdefault("resources", {}).setdefault("memory", {})["disableOOMKiller"] = True
    devices = [device(d) for d in hc.get("Devices") or []]
    if devices:
        lin["devices"] = list(lin.get("devices") or []) + [d for d, _ in devices]
        rules = lin.setdefault("resources", {}).setdefault("devices", [])
        rules.extend(rule for _, rule in devices)
    # /dev/shm: --shm-size, or the host's with --ipc host
    shm_size = int(hc.get("ShmSize") or 0) or DEFAULT_SHM
    ipc = hc.get("IpcMode") or ""
    for m in config["mounts"]:
        if m["destination"] == "/dev/shm" and m.get("type") == "tmpfs":
            if ipc == "host" or shm_source:
                m.update(type="bind", source=shm_source or "/dev/shm",
                         options=["rbind", "rprivate", "nosuid", "nodev", "noexec"])
            elif ipc == "none":
                m["options"] = [o for o in m["options"] if not o.startswith("size=")] + \
                               ["size=0k"]
            else:
                m["options"] = [o for o in m["options"] if not o.startswith("size=")] + \
                               [f"size={shm_size // 1024}k"]
    if ipc == "none":  # docker: no /dev/shm at all
        config["mounts"] = [m for m in config["mounts"] if m["destination"] != "/dev/shm"]
    namespaces = []
    for ns in lin.get("namespaces") or []:
        kind = ns["type"]
        mode = {"pid": hc.get("PidMode"), "ipc": ipc, "uts": hc.get("UTSMode")}.get(kind) or ""
        if mode == "host":
            continue  # the host's namespace: no entry
        if mode.startswith("container:") and kind in ns_paths:
            ns = {"type": kind, "path": ns_paths[kind]}
        namespaces.append(ns)
    lin["namespaces"] = namespaces
    if hc.get("UTSMode") == "host":
        config.pop("hostname", None)  # no UTS namespace of its own: nothing to set
