"""Overlay snapshotter (containerd's model).

Glossary:
    committed snapshot  an immutable layer directory, named by the layer's chain ID
                        (``sha256:…``); its parent is the chain below it.
    active snapshot     a writable snapshot under a caller-chosen ``key`` (a container,
                        a build step, a layer being unpacked), on top of a committed parent.
    lowerdirs           the committed ``fs`` dirs below a snapshot, top-most first,
                        as overlayfs wants them.

Layout under ``root`` (short directory names keep overlay's mount data below one page
even with many layers)::

    c/<16 hex of chain id>/{fs, info.json}     committed
    a/<16 hex of sha256(key)>/{fs, work, info.json}  active
    tmp/                                         snapshots being made; emptied by recover()

Lifecycle of unpacking a layer: ``prepare("extract-…", parent)`` → write the layer into
``upper(key)`` → ``commit(chain_id, key)`` (a rename: a crash leaves either nothing or
the whole snapshot). Active snapshots whose key starts with ``extract-`` are scratch
space and are removed by :meth:`Snapshotter.recover`.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import tempfile
import threading

from dockyard.errors import AlreadyExists, FailedPrecondition, NotFound

SCRATCH_PREFIX = "extract-"


def _short(s: str) -> str:
    return hashlib.sha256(s.encode()).hexdigest()[:16]


class Snapshotter:
    """Committed (by chain ID) and active (by key) overlay snapshots under ``root``."""

    def __init__(self, root: str):
        self.root = root
        self._reaper = _Reaper()
        for sub in ("c", "a", "tmp"):
            os.makedirs(os.path.join(root, sub), mode=0o700, exist_ok=True)

    # -- paths -------------------------------------------------------------------------
    def _committed_dir(self, name: str) -> str:
        return os.path.join(self.root, "c", name.split(":", 1)[-1][:16])

    def _active_dir(self, key: str) -> str:
        return os.path.join(self.root, "a", _short(key))

    def _info(self, d: str) -> dict:
        try:
            with open(os.path.join(d, "info.json")) as f:
                return json.load(f)
        except FileNotFoundError:
            raise NotFound(f"snapshot {d} has no record") from None

    def dir(self, name: str) -> str:
        """The ``fs`` directory of committed snapshot ``name``."""
        d = self._committed_dir(name)
        if not os.path.isdir(d):
            raise NotFound(f"snapshot {name} not found")
        return os.path.join(d, "fs")

    def exists(self, key: str) -> bool:
        """True when a committed snapshot ``key`` or an active one with that key exists."""
        return (os.path.isdir(self._committed_dir(key)) if key.startswith("sha256:")
                else False) or os.path.isdir(self._active_dir(key))

    def parent(self, name: str) -> str | None:
        return self._info(self._committed_dir(name)).get("parent")

    def lowerdirs(self, parent: str | None) -> list[str]:
        """The committed ``fs`` dirs of ``parent`` and its ancestors, top-most first."""
        dirs: list[str] = []
        while parent:
            dirs.append(self.dir(parent))
            parent = self.parent(parent)
        return dirs

    # -- active snapshots ---------------------------------------------------------------
    def prepare(self, key: str, parent: str | None) -> list[str]:
        """Create active snapshot ``key`` over ``parent``; return its lowerdirs."""
        final = self._active_dir(key)
        if os.path.exists(final):
            raise AlreadyExists(f"snapshot {key} already exists")
        lowers = self.lowerdirs(parent)
        tmp = tempfile.mkdtemp(dir=os.path.join(self.root, "tmp"))
        os.mkdir(os.path.join(tmp, "fs"), 0o755)
        os.mkdir(os.path.join(tmp, "work"), 0o700)
        with open(os.path.join(tmp, "info.json"), "w") as f:
            json.dump({"key": key, "parent": parent, "kind": "active"}, f)
        os.rename(tmp, final)
        return lowers

    def upper(self, key: str) -> str:
        """The writable (upper) dir of active snapshot ``key``."""
        d = self._active_dir(key)
        if not os.path.isdir(d):
            raise NotFound(f"snapshot {key} not found")
        return os.path.join(d, "fs")

    def mounts(self, key: str) -> dict:
        """The OCI mount for active snapshot ``key`` (a bind mount when it has no parent)."""
        upper = self.upper(key)
        lowers = self.lowerdirs(self._info(self._active_dir(key)).get("parent"))
        if not lowers:
            return {"type": "bind", "source": upper, "options": ["rw", "rbind"]}
        work = os.path.join(os.path.dirname(upper), "work")
        return {"type": "overlay", "source": "overlay",
                "options": ["index=off", f"lowerdir={':'.join(lowers)}",
                            f"upperdir={upper}", f"workdir={work}"]}

    def mount(self, key: str, target: str) -> None:
        """Mount active snapshot ``key`` on ``target``."""
        m = self.mounts(key)
        if m["type"] == "bind":
            cmd = ["mount", "--bind", m["source"], target]
        else:
            cmd = ["mount", "-t", "overlay", "overlay", "-o", ",".join(m["options"]), target]
        r = subprocess.run(cmd, capture_output=True, text=True)
        if r.returncode:
            raise OSError(f"mount of snapshot {key} on {target}: {r.stderr.strip()}")

    def record_size(self, key: str, size: int) -> None:
        """Note the content size (bytes of regular files) of a layer unpacked into active
        snapshot ``key``; :meth:`commit` keeps it, :meth:`recorded_size` reads it back."""
        d = self._active_dir(key)
        info = self._info(d)
        info["size"] = int(size)
        tmp = os.path.join(d, "info.json.tmp")
        with open(tmp, "w") as f:
            json.dump(info, f)
        os.rename(tmp, os.path.join(d, "info.json"))

    def adopt_size(self, name: str, key: str) -> None:
        """Give committed snapshot ``name`` the size recorded for active snapshot ``key``
        (the same layer unpacked again) when it has none yet, e.g. one committed before
        sizes were recorded: the next import of that layer can then reuse it."""
        d = self._committed_dir(name)
        try:
            info, src = self._info(d), self._info(self._active_dir(key))
        except (NotFound, ValueError):
            return
        if info.get("name") != name or "size" in info or not isinstance(src.get("size"), int):
            return
        info["size"] = src["size"]
        tmp = os.path.join(d, "info.json.tmp")
        with open(tmp, "w") as f:
            json.dump(info, f)
        os.rename(tmp, os.path.join(d, "info.json"))

    def recorded_size(self, name: str) -> int | None:
        """The content size recorded for committed snapshot ``name``; None when there is
        no such snapshot or it was committed without one (older stores, build steps)."""
        try:
            info = self._info(self._committed_dir(name))
        except (NotFound, ValueError):
            return None
        size = info.get("size")
        if info.get("name") != name:  # directories are named by a 64-bit prefix only
            return None
        return size if isinstance(size, int) and size >= 0 else None

    def commit(self, name: str, key: str) -> None:
        """Turn active snapshot ``key`` into committed snapshot ``name`` (atomic rename)."""
        src = self._active_dir(key)
        info = self._info(src)
        dst = self._committed_dir(name)
        if os.path.exists(dst):
            raise AlreadyExists(f"snapshot {name} already exists")
        tmp = tempfile.mkdtemp(dir=os.path.join(self.root, "tmp"))
        os.rename(src, os.path.join(tmp, "s"))
        staged = os.path.join(tmp, "s")
        shutil.rmtree(os.path.join(staged, "work"), ignore_errors=True)
        with open(os.path.join(staged, "info.json"), "w") as f:
            done = {"name": name, "parent": info.get("parent"), "kind": "committed"}
            if "size" in info:
                done["size"] = info["size"]
            json.dump(done, f)
        os.rename(staged, dst)
        os.rmdir(tmp)

    def remove(self, key: str) -> None:
        """Remove an active snapshot or a committed one (which must have no children)."""
        d = self._active_dir(key)
        if not os.path.isdir(d) and key.startswith("sha256:"):
            d = self._committed_dir(key)
        if not os.path.isdir(d):
            return
        if "/c/" in d and self._children(key):
            raise FailedPrecondition(f"snapshot {key} has children")
        # rename first so a crash mid-delete leaves only junk in tmp/ (recover() empties
        # it); the tree itself is deleted in the background: ``rm`` of a container (and
        # ``run --rm``) need not wait for thousands of unlinks.
        tmp = tempfile.mkdtemp(dir=os.path.join(self.root, "tmp"))
        os.rename(d, os.path.join(tmp, "s"))
        self._reaper.discard(tmp)

    def _children(self, name: str) -> list[str]:
        out = []
        for kind in ("c", "a"):
            for entry in os.listdir(os.path.join(self.root, kind)):
                try:
                    info = self._info(os.path.join(self.root, kind, entry))
                except NotFound:
                    continue
                if info.get("parent") == name:
                    out.append(info.get("name") or info.get("key"))
        return out

    def committed(self) -> list[str]:
        """Names of all committed snapshots."""
        names = []
        for entry in os.listdir(os.path.join(self.root, "c")):
            try:
                names.append(self._info(os.path.join(self.root, "c", entry))["name"])
            except (NotFound, KeyError):
                continue
        return names

    def usage(self, name: str) -> int:
        """Bytes used by committed snapshot ``name``'s own files."""
        total = 0
        for dirpath, dirs, files in os.walk(self.dir(name)):
            for f in files:
                try:
                    total += os.lstat(os.path.join(dirpath, f)).st_size
                except OSError:
                    pass
        return total

    def close(self) -> None:
        """Finish the deletions still queued (daemon stop)."""
        self._reaper.drain()

    def recover(self) -> None:
        """Start-up: drop half-made snapshots (tmp/) and leftover scratch extractions."""
        tmp_root = os.path.join(self.root, "tmp")
        for entry in os.listdir(tmp_root):
            shutil.rmtree(os.path.join(tmp_root, entry), ignore_errors=True)
        for entry in os.listdir(os.path.join(self.root, "a")):
            d = os.path.join(self.root, "a", entry)
            try:
                key = self._info(d).get("key", "")
            except NotFound:
                key = SCRATCH_PREFIX
            if key.startswith(SCRATCH_PREFIX):
                shutil.rmtree(d, ignore_errors=True)


class _Reaper:
    """One background thread that deletes directory trees already renamed out of sight.
    The thread runs while there is work and exits when the queue is empty."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._queue: list[str] = []
        self._running = False  # a thread owns the queue (set and cleared under _cond)

    def discard(self, path: str) -> None:
        with self._cond:
            self._queue.append(path)
            if not self._running:
                self._running = True
                threading.Thread(target=self._run, name="snapshot-reaper", daemon=True).start()

    def _run(self) -> None:
        while True:
            with self._cond:
                if not self._queue:
                    self._running = False
                    self._cond.notify_all()
                    return
                path = self._queue.pop(0)
            shutil.rmtree(path, ignore_errors=True)

    def drain(self) -> None:
        """Wait until every queued tree is gone."""
        with self._cond:
            self._cond.wait_for(lambda: not self._running)
