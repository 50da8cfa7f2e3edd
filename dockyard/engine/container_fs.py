"""The container's filesystem from the host: cp (archive), export, diff (changes), commit.

Paths inside the container are resolved *in scope*: every symlink is resolved relative to
the container's root, so ``docker cp`` never follows a link out of the container.
"""
from __future__ import annotations

import base64
import contextlib
import json
import os
import stat
import tarfile

from dockyard.engine import container_files as files
from dockyard.errors import InvalidArgument, NotFound
from dockyard.fspath import resolve_in_root, resolve_parts

def scoped_resolve(root: str, path: str, follow_last: bool = True) -> str:
    """Host path of container ``path`` under ``root``, symlinks resolved inside ``root``."""
    return resolve_in_root(root, path, follow_last)


def scoped_path(root: str, path: str, follow_last: bool = True) -> str:
    """The container path ``path`` names once its symlinks are resolved inside ``root``."""
    return "/" + "/".join(resolve_parts(root, path, follow_last))


class FsMixin:
    def _rootfs(self, rec: dict) -> str:
        p = files.Paths(self.engine, rec["Id"])
        files.mount_rootfs(self.engine, rec["Id"], p)
        return p.rootfs

    def _host_path(self, rec: dict, path: str, follow_last: bool = True) -> str:
        """Resolve ``path`` in the container's root, then map it to a volume/bind source or
        to the container's own hostname/hosts/resolv.conf when it lies under one."""
        root = self._rootfs(rec)
        norm = scoped_path(root, path, follow_last)
        etc = {"/etc/hostname": rec["HostnamePath"], "/etc/hosts": rec["HostsPath"],
               "/etc/resolv.conf": rec["ResolvConfPath"]}
        if norm in etc:
            return etc[norm]
        for m in sorted(rec.get("Mounts", []), key=lambda m: -len(m["Destination"])):
            dest = m["Destination"]
            if m["Type"] != "tmpfs" and (norm == dest or norm.startswith(dest.rstrip("/") + "/")):
                return scoped_resolve(m["Source"], norm[len(dest):], follow_last)
        return os.path.join(root, norm.lstrip("/"))

    # -- cp ----------------------------------------------------------------------------
    def archive_get(self, ref: str, path: str, stat_only: bool = False):
        """(base64 stat header, tar chunks) for ``GET /containers/{id}/archive``; with
        ``stat_only`` (HEAD) the chunks are None and the container is thawed at once."""
        rec = self.get(ref)
        thaw = self._freeze(rec)
        try:
            host = self._host_path(rec, path, follow_last=path.endswith("/") or path.endswith("/."))
            st = os.lstat(host)
        except FileNotFoundError:
            thaw()
            raise NotFound(f"Could not find the file {path} in container {rec['Name'].lstrip('/')}") from None
        except BaseException:
            thaw()
            raise
        link = os.readlink(host) if stat.S_ISLNK(st.st_mode) else ""
        info = {"name": os.path.basename(path.rstrip("/")) or "/", "size": st.st_size,
                "mode": _go_mode(st.st_mode), "mtime": _rfc3339(st.st_mtime), "linkTarget": link}
        header = base64.b64encode(json.dumps(info).encode()).decode()
        if stat_only:
            thaw()
            return header, None
        arcname = os.path.basename(os.path.normpath(path)) or "."
        return header, _thawing(_tar_chunks(host, arcname), thaw)

    def archive_put(self, ref: str, path: str, body, no_overwrite: bool = False) -> None:
        rec = self.get(ref)
        if rec["HostConfig"].get("ReadonlyRootfs"):
            raise InvalidArgument("container rootfs is marked read-only")
        thaw = self._freeze(rec)
        try:
            host = self._host_path(rec, path)
            if not os.path.isdir(host):
                raise NotFound(f"Could not find the file {path} in container "
                               f"{rec['Name'].lstrip('/')}") if not os.path.exists(host) else \
                    InvalidArgument(f"extraction point is not a directory: {path}")
            from dockyard.image.layer import apply_tar
            apply_tar(body, host)
        finally:
            thaw()

    def _freeze(self, rec: dict):
        """Freeze a running container for the length of a copy; return the thaw function.

        Paths are resolved in user space and then opened by name, so a container that
        swaps a directory for a symlink to ``/`` in between could point the copy at the
        host (CVE-2018-15664). Frozen, nothing inside can move while we look, which is
        how docker closed it too.
        """
        if rec["State"]["Status"] != "running":
            return lambda: None
        cid = rec["Id"]
        self._driver().pause(cid)
        done = []

        def thaw() -> None:
            if not done:
                done.append(True)
                with contextlib.suppress(Exception):
                    self._driver().resume(cid)
        return thaw

    # -- export / diff -----------------------------------------------------------------
    def export(self, ref: str):
        rec = self.get(ref)
        root = self._rootfs(rec)
        self._emit("export", rec)
        return _tar_chunks(root, ".", top=False)

    def changes(self, ref: str) -> list[dict]:
        """docker diff: Kind 0 = modified, 1 = added, 2 = deleted."""
        rec = self.get(ref)
        upper = self.engine.snapshots.upper(rec["Id"])
        lowers = _lowerdirs(self.engine.snapshots.mounts(rec["Id"]))
        out = []
        for dirpath, dirnames, filenames in os.walk(upper):
            for name in sorted(dirnames + filenames):
                full = os.path.join(dirpath, name)
                rel = "/" + os.path.relpath(full, upper)
                st = os.lstat(full)
                if stat.S_ISCHR(st.st_mode) and st.st_rdev == 0:
                    out.append({"Path": rel, "Kind": 2})
                elif any(os.path.lexists(os.path.join(lo, rel.lstrip("/"))) for lo in lowers):
                    out.append({"Path": rel, "Kind": 0})
                else:
                    out.append({"Path": rel, "Kind": 1})
        return _hide_mountpoints(out)

    # -- commit ------------------------------------------------------------------------
    def commit(self, ref: str, repo: str = "", tag: str = "", comment: str = "",
               author: str = "", changes: list[str] | None = None, pause: bool = True,
               config: dict | None = None) -> str:
        from dockyard.engine.commit_changes import apply_changes
        rec = self.get(ref)
        cfg = rec["Config"]
        keep = ("Cmd", "Entrypoint", "Env", "WorkingDir", "User", "ExposedPorts", "Labels",
                "Volumes", "StopSignal", "Healthcheck", "OnBuild", "Shell")
        new_cfg = {k: cfg.get(k) for k in keep if cfg.get(k) not in (None, "", {}, [])}
        new_cfg.update({k: v for k, v in (config or {}).items() if k in keep and v})
        for line in changes or []:
            apply_changes(new_cfg, line)
        history = {"created_by": " ".join([rec["Path"]] + rec["Args"]), "comment": comment,
                   **({"author": author} if author else {})}
        ref_name = f"{repo}:{tag or 'latest'}" if repo else None
        paused = False
        if pause and rec["State"]["Status"] == "running":
            try:
                self.pause(rec["Id"])
                paused = True
            except Exception:  # noqa: BLE001 — a freezer problem must not block commit
                pass
        upper = self.engine.snapshots.upper(rec["Id"])
        lowers = _lowerdirs(self.engine.snapshots.mounts(rec["Id"]))
        try:
            image_id = self.engine.images.create_from_snapshot(
                rec["Image"], upper, new_cfg, history, ref=ref_name,
                exclude=_mountpoint_entries(upper, lowers))
        finally:
            if paused:
                self.unpause(rec["Id"])
        self._emit("commit", rec, comment=comment)
        return image_id


# created by the runtime as bind-mount targets; docker keeps them in a hidden init layer
MOUNT_TARGETS = {"/etc/hostname", "/etc/hosts", "/etc/resolv.conf", "/.dockerenv"}


def _hide_mountpoints(changes: list[dict]) -> list[dict]:
    """Drop the mount targets, and a "modified" parent whose only changes were those."""
    kept = [c for c in changes if c["Path"] not in MOUNT_TARGETS]
    paths = {c["Path"] for c in kept}
    out = []
    for c in kept:
        children = [p for p in paths if p.startswith(c["Path"].rstrip("/") + "/")]
        touched_only_targets = c["Kind"] == 0 and not children and any(
            t.startswith(c["Path"].rstrip("/") + "/") for t in MOUNT_TARGETS)
        if not touched_only_targets:
            out.append(c)
    return sorted(out, key=lambda c: c["Path"])


def _mountpoint_entries(upper: str, lowers: list[str]) -> frozenset[str]:
    """What the runtime made in the upper dir only to mount /etc/hosts & co. on (empty
    files), and a parent directory touched for nothing else (same owner and mode as
    below it): docker keeps these in its hidden init layer, so a commit never has them."""
    out = set()
    for target in MOUNT_TARGETS:
        rel = target.lstrip("/")
        try:
            st = os.lstat(os.path.join(upper, rel))
        except OSError:
            continue
        if stat.S_ISREG(st.st_mode) and st.st_size == 0:
            out.add(rel)
    for parent in {os.path.dirname(r) for r in out if os.path.dirname(r)}:
        try:
            left = set(os.listdir(os.path.join(upper, parent)))
            mine = os.lstat(os.path.join(upper, parent))
        except OSError:
            continue
        if left - {os.path.basename(r) for r in out if os.path.dirname(r) == parent}:
            continue
        below = next((os.lstat(os.path.join(lo, parent)) for lo in lowers
                      if os.path.lexists(os.path.join(lo, parent))), None)
        if below is not None and (below.st_mode, below.st_uid, below.st_gid) == \
                (mine.st_mode, mine.st_uid, mine.st_gid):
            out.add(parent)
    return frozenset(out)


def _lowerdirs(m: dict) -> list[str]:
    for opt in m.get("options", []):
        if opt.startswith("lowerdir="):
            return opt[len("lowerdir="):].split(":")
    return []


def _go_mode(mode: int) -> int:
    """Go's os.FileMode bits, which the docker CLI decodes from the stat header."""
    out = mode & 0o777
    if stat.S_ISDIR(mode):
        out |= 1 << 31
    elif stat.S_ISLNK(mode):
        out |= 1 << 27
    return out


def _rfc3339(t: float) -> str:
    import time
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))


class _Chunks:
    """A write-only file object that collects what tarfile writes."""

    def __init__(self):
        self.parts: list[bytes] = []

    def write(self, b) -> int:
        self.parts.append(bytes(b))
        return len(b)

    def take(self) -> bytes:
        data, self.parts = b"".join(self.parts), []
        return data


def _tar_chunks(host: str, arcname: str, top: bool = True):
    """Stream a tar of ``host`` (never following symlinks) as chunks."""
    sink = _Chunks()
    tf = tarfile.open(fileobj=sink, mode="w|", format=tarfile.PAX_FORMAT)
    try:
        if top or not os.path.isdir(host):
            tf.add(host, arcname=arcname, recursive=False)
            yield sink.take()
        if os.path.isdir(host) and not os.path.islink(host):
            for dirpath, dirnames, filenames in os.walk(host):
                dirnames.sort()
                for name in sorted(dirnames) + sorted(filenames):
                    full = os.path.join(dirpath, name)
                    rel = os.path.relpath(full, host)
                    tf.add(full, arcname=os.path.join(arcname, rel) if top else rel,
                           recursive=False)
                    data = sink.take()
                    if data:
                        yield data
    finally:
        tf.close()
    yield sink.take()


def _thawing(chunks, thaw):
    """``chunks``, then thaw (also when the client goes away mid-stream). The generator is
    started here, so even a response that is never read thaws when it is dropped."""
    def gen():
        try:
            yield b""
            yield from chunks
        finally:
            thaw()
    g = gen()
    next(g)
    return g
