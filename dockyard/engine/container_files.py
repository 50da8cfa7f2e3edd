"""A container's files on the host: its directory, bundle, rootfs mount and volume mounts.

Layout: ``<data_root>/containers/<id>/`` holds hostname, hosts, resolv.conf, the json-file
log and ``exit.json`` (written by the supervisor); ``<exec_root>/bundles/<id>/`` holds
config.json and the ``rootfs`` mount point (overlay of the image's layers + the container's
active snapshot, key = container id).
"""
from __future__ import annotations

import os
import shutil

from dockyard.engine.container_config import parse_bind
from dockyard.errors import InvalidArgument


class Paths:
    def __init__(self, engine, cid: str):
        self.dir = os.path.join(engine.data_root, "containers", cid)
        self.bundle = os.path.join(engine.exec_root, "bundles", cid)
        self.rootfs = os.path.join(self.bundle, "rootfs")
        self.config = os.path.join(self.bundle, "config.json")
        self.log = os.path.join(self.dir, f"{cid}-json.log")
        self.exit = os.path.join(self.dir, "exit.json")
        self.hostname = os.path.join(self.dir, "hostname")
        self.hosts = os.path.join(self.dir, "hosts")
        self.resolv = os.path.join(self.dir, "resolv.conf")
        self.shm = os.path.join(self.bundle, "shm")  # --ipc shareable: its /dev/shm


def write_etc_files(p: Paths, hostname: str, extra_hosts: list[str], ip: str | None = None,
                    dns: list[str] | None = None) -> None:
    """hostname, hosts and resolv.conf for the container's bind mounts (rewritten in place,
    so the container sees later updates such as its IP address)."""
    os.makedirs(p.dir, mode=0o710, exist_ok=True)
    _write_in_place(p.hostname, hostname + "\n")
    _write_in_place(p.hosts, hosts_text(hostname, extra_hosts, ip))
    _write_in_place(p.resolv, resolv_text(dns))


def write_network_files(p: Paths, hosts: list[str] | None, extra: list[str] | None,
                        dns: list[str] | None, search: list[str] | None,
                        options: list[str] | None) -> None:
    """/etc/hosts and /etc/resolv.conf from the network service's answer."""
    if hosts is not None:
        lines = list(hosts) + [f"{e.partition(':')[2]}\t{e.partition(':')[0]}" for e in extra or []]
        _write_in_place(p.hosts, "\n".join(lines) + "\n")
    text = resolv_text(dns)
    if search:
        text += "search " + " ".join(search) + "\n"
    if options:
        text += "options " + " ".join(options) + "\n"
    _write_in_place(p.resolv, text)


def hosts_text(hostname: str, extra: list[str], ip: str | None) -> str:
    lines = ["127.0.0.1\tlocalhost", "::1\tlocalhost ip6-localhost ip6-loopback",
             "fe00::0\tip6-localnet", "ff00::0\tip6-mcastprefix", "ff02::1\tip6-allnodes",
             "ff02::2\tip6-allrouters"]
    for e in extra or []:
        name, _, addr = e.partition(":")
        lines.append(f"{addr}\t{name}")
    if ip:
        lines.append(f"{ip}\t{hostname}")
    return "\n".join(lines) + "\n"


def resolv_text(dns: list[str] | None) -> str:
    """The host's resolv.conf minus loopback resolvers (unreachable from a netns)."""
    if dns:
        return "".join(f"nameserver {d}\n" for d in dns)
    try:
        with open("/etc/resolv.conf") as f:
            host = f.read().splitlines()
    except OSError:
        host = []
    keep = [ln for ln in host if not (ln.startswith("nameserver") and
                                      (" 127." in ln or ln.strip().endswith("::1")))]
    if not any(ln.startswith("nameserver") for ln in keep):
        keep += ["nameserver 8.8.8.8", "nameserver 8.8.4.4"]
    return "\n".join(keep) + "\n"


def _write_in_place(path: str, text: str) -> None:
    with open(path, "w") as f:
        f.write(text)


_libc = None
MNT_DETACH = 2


def _c():
    global _libc
    if _libc is None:
        import ctypes
        _libc = ctypes.CDLL(None, use_errno=True)
    return _libc


def mount_rootfs(engine, cid: str, p: Paths, volatile: bool = False) -> None:
    """Mount the container's snapshot on the bundle's rootfs (mount(2) directly: a
    ``mount`` process per container start costs milliseconds).

    ``volatile`` (for ``--rm`` containers, whose writes are thrown away anyway) skips
    overlayfs's sync of the upper layer at unmount, ~25 ms off every ``run --rm``.
    """
    os.makedirs(p.rootfs, exist_ok=True)
    if os.path.ismount(p.rootfs):
        return
    m = engine.snapshots.mounts(cid)
    if m["type"] == "bind":
        ret = _c().mount(m["source"].encode(), p.rootfs.encode(), None, 4096 | 16384, None)
    else:
        data = ",".join(m["options"] + (["volatile"] if volatile else [])).encode()
        ret = _c().mount(b"overlay", p.rootfs.encode(), b"overlay", 0, data)
    if ret != 0:
        _mount_failed(f"mount {m['type']} of snapshot {cid}", p.rootfs)


def _mount_failed(what: str, path: str):
    import ctypes
    err = ctypes.get_errno()
    raise OSError(err, f"{what}: {os.strerror(err)}", path)


def _unmount(path: str) -> None:
    if os.path.ismount(path):
        if _c().umount2(path.encode(), 0) != 0:
            # busy (a process still holds it): detach lazily rather than leak the mount
            _c().umount2(path.encode(), MNT_DETACH)


def unmount_rootfs(p: Paths) -> None:
    _unmount(p.rootfs)


def mount_shm(p: Paths, size: int) -> None:
    """A shareable container's /dev/shm: a tmpfs on the host side of the bundle, so a
    container joining its IPC namespace can bind the same one (docker's ShmPath)."""
    os.makedirs(p.shm, exist_ok=True)
    if os.path.ismount(p.shm):
        return
    flags = 2 | 4 | 8  # MS_NOSUID | MS_NODEV | MS_NOEXEC
    data = f"mode=1777,size={max(size // 1024, 1)}k".encode()
    if _c().mount(b"shm", p.shm.encode(), b"tmpfs", flags, data) != 0:
        _mount_failed("mount tmpfs for /dev/shm", p.shm)


def unmount_shm(p: Paths) -> None:
    _unmount(p.shm)


def remove_dirs(p: Paths) -> None:
    unmount_shm(p)
    unmount_rootfs(p)
    shutil.rmtree(p.bundle, ignore_errors=True)
    shutil.rmtree(p.dir, ignore_errors=True)


def volume_mounts(engine, cfg: dict, hc: dict, rootfs: str | None = None,
                  volumes_from: list[tuple[list[dict], str]] | None = None) -> list[dict]:
    """docker's Mounts list (inspect shape) from -v binds, --mount, --tmpfs,
    ``--volumes-from`` (``volumes_from``: each donor's Mounts and the mode asked for) and
    the image's VOLUMEs (anonymous volumes for destinations nothing else covers)."""
    out: list[dict] = []
    for b in hc.get("Binds") or []:
        bb = parse_bind(b)
        out.append(_bind_or_volume(engine, bb["source"], bb["destination"], bb["rw"],
                                   bb["named"], create_src=True))
    for m in hc.get("Mounts") or []:
        out.append(_mount_entry(engine, m))
    for dest, opts in (hc.get("Tmpfs") or {}).items():
        out.append({"Type": "tmpfs", "Source": "", "Destination": dest, "Mode": opts or "",
                    "RW": "ro" not in (opts or "").split(","), "Propagation": ""})
    taken = {m["Destination"] for m in out}
    for mounts, mode in volumes_from or []:
        # the donor's binds and volumes, where no -v/--mount of this container says
        # otherwise; ":ro"/":rw" override each one's own mode
        for m in mounts:
            if m["Type"] not in ("bind", "volume") or m["Destination"] in taken:
                continue
            rw = {"ro": False, "rw": True}.get(mode, m.get("RW", True))
            out.append(dict(m, RW=rw, Mode="" if rw else "ro"))
            taken.add(m["Destination"])
    for dest in (cfg.get("Volumes") or {}):
        if os.path.normpath(dest) not in taken:
            vol = engine.volumes.create(anonymous=True)
            out.append(_volume(vol, os.path.normpath(dest), True))
    return out


def _mount_entry(engine, m: dict) -> dict:
    typ, target = m.get("Type", "volume"), m.get("Target") or m.get("Destination")
    if not target or not target.startswith("/"):
        raise InvalidArgument(f"invalid mount config for type \"{typ}\": "
                              "invalid mount path: target must be an absolute path")
    rw = not m.get("ReadOnly")
    if typ == "bind":
        return _bind_or_volume(engine, m.get("Source") or "", target, rw, False, create_src=False)
    if typ == "volume":
        return _bind_or_volume(engine, m.get("Source") or "", target, rw, True, create_src=True)
    if typ == "tmpfs":
        opts = m.get("TmpfsOptions") or {}
        mode = ",".join(filter(None, [f"size={opts['SizeBytes']}" if opts.get("SizeBytes") else "",
                                      f"mode={opts['Mode']:o}" if opts.get("Mode") else ""]))
        return {"Type": "tmpfs", "Source": "", "Destination": target, "Mode": mode, "RW": rw,
                "Propagation": ""}
    raise InvalidArgument(f"invalid mount config: mount type unknown: {typ!r}")


def _bind_or_volume(engine, src: str, dst: str, rw: bool, named: bool, create_src: bool) -> dict:
    if named:
        vol = engine.volumes.create(src or None, anonymous=not src)
        return _volume(vol, dst, rw)
    if not os.path.exists(src):
        if not create_src:
            raise InvalidArgument(f"invalid mount config for type \"bind\": "
                                  f"bind source path does not exist: {src}")
        os.makedirs(src, exist_ok=True)  # -v creates a missing host dir, as docker does
    return {"Type": "bind", "Source": src, "Destination": dst, "Mode": "" if rw else "ro",
            "RW": rw, "Propagation": "rprivate"}


def _volume(vol: dict, dst: str, rw: bool) -> dict:
    return {"Type": "volume", "Name": vol["Name"], "Source": vol["Mountpoint"],
            "Destination": dst, "Driver": "local", "Mode": "" if rw else "ro", "RW": rw,
            "Propagation": ""}


def oci_mounts(mounts: list[dict]) -> list[dict]:
    """Inspect-shaped Mounts → OCI mounts for config.json."""
    out = []
    for m in mounts:
        if m["Type"] == "tmpfs":
            opts = ["nosuid", "nodev", "noexec"] + [o for o in m["Mode"].split(",") if o]
            out.append({"destination": m["Destination"], "type": "tmpfs", "source": "tmpfs",
                        "options": opts})
        else:
            opts = ["rbind", "rprivate"] + ([] if m["RW"] else ["ro"])
            out.append({"destination": m["Destination"], "type": "bind", "source": m["Source"],
                        "options": opts})
    return out


def copy_up_volume(rootfs: str, m: dict) -> None:
    """A fresh named/anonymous volume gets the image's content at its destination (docker)."""
    if m["Type"] != "volume" or os.listdir(m["Source"]):
        return
    src = os.path.join(rootfs, m["Destination"].lstrip("/"))
    if os.path.isdir(src) and not os.path.islink(src) and \
            os.path.realpath(src).startswith(os.path.realpath(rootfs) + "/"):
        shutil.copytree(src, m["Source"], symlinks=True, dirs_exist_ok=True)
