"""Container configuration → OCI runtime config.json, with docker's defaults.

``build(ctr, image_config, paths)`` takes the container record (docker's ``Config`` and
``HostConfig``), the image's config, and host paths prepared by the container service
(rootfs, hostname/hosts/resolv.conf files, netns, resolved user, volume mounts), and
returns the OCI config. Defaults follow docker (moby ``oci/defaults.go``): its 14
capabilities, masked and read-only paths, the /dev, /proc, /sys, mqueue and shm mounts,
the device cgroup allow-list, and the runtime's default seccomp profile.
"""
from __future__ import annotations

import os

DEFAULT_CAPS = ["CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FSETID", "CAP_FOWNER", "CAP_MKNOD",
                "CAP_NET_RAW", "CAP_SETGID", "CAP_SETUID", "CAP_SETFCAP", "CAP_SETPCAP",
                "CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT", "CAP_KILL", "CAP_AUDIT_WRITE"]
MASKED = ["/proc/asound", "/proc/acpi", "/proc/kcore", "/proc/keys", "/proc/latency_stats",
          "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug", "/proc/scsi",
          "/sys/firmware", "/sys/devices/virtual/powercap"]
READONLY = ["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"]
DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
# docker's device cgroup allow-list (everything else denied)
DEVICES = [("c", 1, 5), ("c", 1, 3), ("c", 1, 9), ("c", 1, 8), ("c", 5, 0), ("c", 5, 1),
           ("c", 1, 7), ("c", 5, 2), ("c", 136, -1), ("c", 10, 200)]


def default_mounts(read_only_sys: bool = True) -> list[dict]:
    return [
        {"destination": "/proc", "type": "proc", "source": "proc",
         "options": ["nosuid", "noexec", "nodev"]},
        {"destination": "/dev", "type": "tmpfs", "source": "tmpfs",
         "options": ["nosuid", "strictatime", "mode=755", "size=65536k"]},
        {"destination": "/dev/pts", "type": "devpts", "source": "devpts",
         "options": ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"]},
        {"destination": "/sys", "type": "sysfs", "source": "sysfs",
         "options": ["nosuid", "noexec", "nodev", "ro" if read_only_sys else "rw"]},
        {"destination": "/sys/fs/cgroup", "type": "cgroup", "source": "cgroup",
         "options": ["ro", "nosuid", "noexec", "nodev"]},
        {"destination": "/dev/mqueue", "type": "mqueue", "source": "mqueue",
         "options": ["nosuid", "noexec", "nodev"]},
        {"destination": "/dev/shm", "type": "tmpfs", "source": "shm",
         "options": ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"]},
    ]


def build(ctr: dict, image_config: dict, paths: dict) -> dict:
    """Return the OCI config for container record ``ctr`` (see module docstring).

    ``paths``: rootfs, hostname, hosts, resolv_conf (files to bind), netns (path or None for
    a new one, "host" for the host's), user (dict uid/gid/additionalGids), mounts (list of
    OCI mounts for volumes, binds and tmpfs), seccomp ("default" for docker's profile
    fitted to the container's capabilities, a profile, or None).
    """
    cfg, host = ctr["Config"], ctr["HostConfig"]
    privileged = bool(host.get("Privileged"))
    caps = capabilities(host.get("CapAdd"), host.get("CapDrop"), privileged)
    opts = security_opts(host.get("SecurityOpt"))
    proc = process(cfg, image_config, paths["user"], caps, privileged, bool(host.get("Init")))
    proc["noNewPrivileges"] = opts["no-new-privileges"]
    out = {
        "ociVersion": "1.0.2",
        "process": proc,
        "root": {"path": paths["rootfs"], "readonly": bool(host.get("ReadonlyRootfs"))},
        "hostname": cfg.get("Hostname") or ctr["Id"][:12],
        "mounts": mounts(paths, privileged),
        "linux": linux(ctr, paths, privileged),
    }
    if paths.get("seccomp") and not privileged and opts["seccomp"] != "unconfined":
        # docker decides per capability: --cap-add SYS_ADMIN also allows mount(2) & co.
        profile = default_seccomp(caps) if paths["seccomp"] == "default" else paths["seccomp"]
        if profile:
            out["linux"]["seccomp"] = profile
    return out


def security_opts(opts: list[str] | None) -> dict:
    """docker's ``--security-opt``: no-new-privileges[=true|false], seccomp=unconfined.

    Anything else (apparmor, label, a seccomp profile file) is refused with its name,
    rather than silently ignored.
    """
    from dockyard.errors import InvalidArgument
    out = {"no-new-privileges": False, "seccomp": "default"}
    for opt in opts or []:
        key, sep, value = opt.replace(":", "=", 1).partition("=")
        if key == "no-new-privileges":
            out[key] = value.lower() in ("", "true", "1") if sep else True
        elif key == "seccomp" and value == "unconfined":
            out["seccomp"] = "unconfined"
        elif key in ("apparmor", "label") and value in ("unconfined", "disable"):
            continue  # dockyard applies neither AppArmor nor SELinux labels
        else:
            raise InvalidArgument(f"invalid --security-opt {opt!r}: dockyard supports "
                                  "no-new-privileges and seccomp=unconfined")
    return out


INIT_PATH = "/sbin/docker-init"
INIT_CANDIDATES = ("/usr/bin/tini-static", "/usr/libexec/docker/docker-init",
                   "/usr/bin/docker-init")


def init_binary() -> str:
    """A static init (tini) for ``--init``; InvalidArgument when none is installed."""
    for path in INIT_CANDIDATES:
        if os.path.exists(path):
            return path
    from dockyard.errors import InvalidArgument
    raise InvalidArgument("--init needs a static init binary (Debian: tini), none found in "
                          + ", ".join(INIT_CANDIDATES))


def process(cfg: dict, image_cfg: dict, user: dict, caps: list[str], privileged: bool,
            init: bool = False) -> dict:
    args = list(cfg.get("Entrypoint") or []) + list(cfg.get("Cmd") or [])
    if init:  # docker's --init: tini as pid 1 reaps zombies and forwards signals
        args = [INIT_PATH, "--"] + args
    env = merge_env(image_cfg.get("Env") or [], cfg.get("Env") or [])
    env.setdefault("PATH", DEFAULT_PATH)
    env["HOSTNAME"] = cfg.get("Hostname") or ""
    if cfg.get("Tty"):
        env.setdefault("TERM", "xterm")
    proc = {"terminal": bool(cfg.get("Tty")), "user": user, "args": args,
            "env": [f"{k}={v}" for k, v in env.items()],
            "cwd": cfg.get("WorkingDir") or "/",
            "capabilities": {k: caps for k in ("bounding", "effective", "permitted")},
            "rlimits": [], "noNewPrivileges": False}
    if not privileged:
        proc["apparmorProfile"] = ""
    if cfg.get("Tty") and cfg.get("ConsoleSize"):
        h, w = cfg["ConsoleSize"]
        proc["consoleSize"] = {"height": h, "width": w}
    return proc


def merge_env(*lists: list[str]) -> dict[str, str]:
    """Later lists win; ``KEY`` without ``=`` is dropped (docker resolves it client-side)."""
    out: dict[str, str] = {}
    for lst in lists:
        for item in lst:
            k, eq, v = item.partition("=")
            if eq:
                out[k] = v
    return out


def capabilities(add, drop, privileged: bool) -> list[str]:
    if privileged:
        return all_caps()
    caps = list(DEFAULT_CAPS)
    norm = lambda c: c.upper() if c.upper().startswith("CAP_") else "CAP_" + c.upper()  # noqa: E731
    for c in drop or []:
        if c.upper() == "ALL":
            caps = []
        elif norm(c) in caps:
            caps.remove(norm(c))
    for c in add or []:
        if c.upper() == "ALL":
            caps = all_caps()
        elif norm(c) not in caps:
            caps.append(norm(c))
    return caps


def all_caps() -> list[str]:
    last = 40
    try:
        with open("/proc/sys/kernel/cap_last_cap") as f:
            last = int(f.read())
    except OSError:
        pass
    return [f"CAP_{n}" for n in _CAP_NAMES[:last + 1]]


_CAP_NAMES = ["CHOWN", "DAC_OVERRIDE", "DAC_READ_SEARCH", "FOWNER", "FSETID", "KILL", "SETGID",
              "SETUID", "SETPCAP", "LINUX_IMMUTABLE", "NET_BIND_SERVICE", "NET_BROADCAST",
              "NET_ADMIN", "NET_RAW", "IPC_LOCK", "IPC_OWNER", "SYS_MODULE", "SYS_RAWIO",
              "SYS_CHROOT", "SYS_PTRACE", "SYS_PACCT", "SYS_ADMIN", "SYS_BOOT", "SYS_NICE",
              "SYS_RESOURCE", "SYS_TIME", "SYS_TTY_CONFIG", "MKNOD", "LEASE", "AUDIT_WRITE",
              "AUDIT_CONTROL", "SETFCAP", "MAC_OVERRIDE", "MAC_ADMIN", "SYSLOG", "WAKE_ALARM",
              "BLOCK_SUSPEND", "AUDIT_READ", "PERFMON", "BPF", "CHECKPOINT_RESTORE"]


def mounts(paths: dict, privileged: bool) -> list[dict]:
    out = default_mounts(read_only_sys=not privileged)
    user_dests = {m["destination"] for m in paths.get("mounts", [])}
    out = [m for m in out if m["destination"] not in user_dests]
    for dest, key in (("/etc/resolv.conf", "resolv_conf"), ("/etc/hostname", "hostname"),
                      ("/etc/hosts", "hosts")):
        if paths.get(key) and dest not in user_dests:
            out.append({"destination": dest, "type": "bind", "source": paths[key],
                        "options": ["rbind", "rprivate"]})
    if paths.get("init"):
        out.append({"destination": INIT_PATH, "type": "bind", "source": paths["init"],
                    "options": ["rbind", "ro", "rprivate"]})
    return out + list(paths.get("mounts", []))


def linux(ctr: dict, paths: dict, privileged: bool) -> dict:
    ns = [{"type": t} for t in ("pid", "ipc", "uts", "mount")]
    netns = paths.get("netns")
    if netns != "host":
        ns.append({"type": "network", **({"path": netns} if netns else {})})
    out = {"namespaces": ns, "resources": resources(ctr["HostConfig"], privileged),
           "cgroupsPath": f"/dockyard/{ctr['Id']}"}
    if not privileged:
        out["maskedPaths"] = list(MASKED)
        out["readonlyPaths"] = list(READONLY)
    return out


def resources(host: dict, privileged: bool) -> dict:
    res: dict = {}
    if privileged:
        res["devices"] = [{"allow": True, "access": "rwm"}]
    else:
        res["devices"] = [{"allow": False, "access": "rwm"}] + [
            {"allow": True, "type": t, "major": ma, **({"minor": mi} if mi >= 0 else {}),
             "access": "rwm"} for t, ma, mi in DEVICES]
    memory = {}
    if host.get("Memory"):
        memory["limit"] = int(host["Memory"])
        if host.get("MemorySwap"):
            memory["swap"] = int(host["MemorySwap"])
    if host.get("MemoryReservation"):
        memory["reservation"] = int(host["MemoryReservation"])
    if memory:
        res["memory"] = memory
    cpu = {}
    if host.get("NanoCpus"):
        cpu["period"] = 100000
        cpu["quota"] = int(host["NanoCpus"]) * 100000 // 1_000_000_000
    else:
        if host.get("CpuQuota"):
            cpu["quota"] = int(host["CpuQuota"])
        if host.get("CpuPeriod"):
            cpu["period"] = int(host["CpuPeriod"])
    if host.get("CpuShares"):
        cpu["shares"] = int(host["CpuShares"])
    if host.get("CpusetCpus"):
        cpu["cpus"] = host["CpusetCpus"]
    if host.get("CpusetMems"):
        cpu["mems"] = host["CpusetMems"]
    if host.get("CpuRealtimePeriod"):
        cpu["realtimePeriod"] = int(host["CpuRealtimePeriod"])
    if host.get("CpuRealtimeRuntime"):
        cpu["realtimeRuntime"] = int(host["CpuRealtimeRuntime"])
    if cpu:
        res["cpu"] = cpu
    if host.get("PidsLimit") and int(host["PidsLimit"]) > 0:
        res["pids"] = {"limit": int(host["PidsLimit"])}
    if host.get("BlkioWeight"):
        res["blockIO"] = {"weight": int(host["BlkioWeight"])}
    return res


def default_seccomp(caps: list[str] | None = None) -> dict | None:
    """The runtime's docker-equivalent default profile for a container with ``caps``."""
    try:
        from dockyard.runtime.seccomp_default import default_profile
    except ImportError:
        return None
    return default_profile(caps)


def resolve_user(rootfs: str, user: str) -> dict:
    """docker's ``-u`` forms (name, uid, name:group, uid:gid) against the rootfs's
    /etc/passwd and /etc/group; unknown names raise InvalidArgument like docker."""
    from dockyard.errors import InvalidArgument
    name, _, group = (user or "").partition(":")
    passwd = _read_db(os.path.join(rootfs, "etc/passwd"))
    groups = _read_db(os.path.join(rootfs, "etc/group"))
    uid, gid, uname = 0, 0, "root"
    if name:
        ent = next((e for e in passwd if e[0] == name or (name.isdigit() and e[2] == name)), None)
        if ent:
            uname, uid, gid = ent[0], int(ent[2]), int(ent[3])
        elif name.isdigit():
            uid, uname, gid = int(name), "", 0
        else:
            raise InvalidArgument(f"unable to find user {name}: no matching entries in passwd file")
    if group:
        ent = next((e for e in groups if e[0] == group or (group.isdigit() and e[2] == group)), None)
        if ent:
            gid = int(ent[2])
        elif group.isdigit():
            gid = int(group)
        else:
            raise InvalidArgument(f"unable to find group {group}: no matching entries in group file")
    extra = sorted({int(e[2]) for e in groups if uname and uname in e[3].split(",") and
                    int(e[2]) != gid})
    return {"uid": uid, "gid": gid, **({"additionalGids": extra} if extra else {})}


def _read_db(path: str) -> list[list[str]]:
    root = os.path.realpath(os.path.dirname(os.path.dirname(path)))
    if not os.path.realpath(path).startswith(root + "/"):
        return []  # a symlink out of the rootfs: never read the host's file
    try:
        with open(path) as f:
            return [ln.rstrip("\n").split(":") for ln in f if ln.count(":") >= 3]
    except OSError:
        return []
