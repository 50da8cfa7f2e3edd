"""VolumeService: named local volumes under ``<data_root>/volumes/<name>/_data``.

Records live in the metadata DB (table ``volumes``); the container service reports which
containers use a volume (``engine.containers.volume_users(name)``), so ``rm`` of a volume
in use is a 409 like docker's.
"""
from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import time

from dockyard.errors import Conflict, InvalidArgument, NotFound

DDL = """CREATE TABLE IF NOT EXISTS volumes (
    name TEXT PRIMARY KEY, record TEXT NOT NULL, anonymous INTEGER NOT NULL DEFAULT 0);"""
NAME_RE = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9_.-]+$")


class VolumeService:
    def __init__(self, engine):
        self.engine = engine
        self.root = os.path.join(engine.data_root, "volumes")
        os.makedirs(self.root, mode=0o701, exist_ok=True)
        engine.meta.ensure_schema("volumes", DDL)

    def create(self, name: str | None = None, labels: dict | None = None,
               driver: str | None = None, options: dict | None = None,
               anonymous: bool = False) -> dict:
        """Create a volume (returns the existing one when the name is taken, like docker)."""
        if driver not in (None, "", "local"):
            raise InvalidArgument(f"volume driver {driver!r} is not supported (only local)")
        if options:
            raise InvalidArgument(f"local volume options are not supported: {sorted(options)}")
        anonymous = anonymous or not name
        name = name or secrets.token_hex(32)
        if not NAME_RE.match(name):
            raise InvalidArgument(f"create {name}: \"{name}\" includes invalid characters for a "
                                  "local volume name, only \"[a-zA-Z0-9][a-zA-Z0-9_.-]\" are allowed")
        existing = self._row(name)
        if existing:
            return existing
        data = os.path.join(self.root, name, "_data")
        os.makedirs(data, mode=0o755, exist_ok=True)
        rec = {"CreatedAt": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "Driver": "local",
               "Labels": labels or {}, "Mountpoint": data, "Name": name, "Options": options or {},
               "Scope": "local"}
        if anonymous:
            rec["Labels"] = {**rec["Labels"], "com.docker.volume.anonymous": ""}
        with self.engine.meta.tx() as db:
            db.execute("INSERT INTO volumes (name, record, anonymous) VALUES (?, ?, ?)",
                       (name, json.dumps(rec), int(anonymous)))
        self._emit("create", name)
        return rec

    def _row(self, name: str) -> dict | None:
        row = self.engine.meta.query_one("SELECT record FROM volumes WHERE name = ?", (name,))
        return json.loads(row["record"]) if row else None

    def get(self, name: str) -> dict:
        rec = self._row(name)
        if rec is None:
            raise NotFound(f"get {name}: no such volume")
        return rec

    def list(self, filters: dict | None = None) -> dict:
        rows = self.engine.meta.query("SELECT record FROM volumes ORDER BY name")
        vols = [json.loads(r["record"]) for r in rows]
        vols = [v for v in vols if self._match(v, filters or {})]
        return {"Volumes": vols, "Warnings": []}

    def _match(self, v: dict, filters: dict) -> bool:
        for key, values in filters.items():
            values = list(values) if not isinstance(values, dict) else [k for k, on in values.items() if on]
            if key == "name" and not any(x in v["Name"] for x in values):
                return False
            if key == "label" and not all(_label(v["Labels"], x) for x in values):
                return False
            if key == "label!" and any(_label(v["Labels"], x) for x in values):
                return False
            if key == "dangling":
                used = bool(self.users(v["Name"]))
                if any(x.lower() in ("true", "1") for x in values) == used:
                    return False
            if key == "driver" and "local" not in values:
                return False
        return True

    def users(self, name: str) -> list[str]:
        try:
            return self.engine.containers.volume_users(name)
        except AttributeError:
            return []

    def remove(self, name: str, force: bool = False) -> None:
        self.get(name)
        users = self.users(name)
        if users:
            raise Conflict(f"remove {name}: volume is in use - [{', '.join(users)}]")
        with self.engine.meta.tx() as db:
            db.execute("DELETE FROM volumes WHERE name = ?", (name,))
        shutil.rmtree(os.path.join(self.root, name), ignore_errors=True)
        self._emit("destroy", name)

    def prune(self, filters: dict | None = None) -> dict:
        """Remove unused volumes (only anonymous ones unless filter all=true, as docker 23+)."""
        filters = dict(filters or {})
        everything = any(str(x).lower() in ("1", "true") for x in filters.pop("all", []))
        deleted, space = [], 0
        for v in self.list(filters)["Volumes"]:
            anon = "com.docker.volume.anonymous" in v["Labels"]
            if (anon or everything) and not self.users(v["Name"]):
                space += _du(v["Mountpoint"])
                self.remove(v["Name"])
                deleted.append(v["Name"])
        return {"VolumesDeleted": deleted, "SpaceReclaimed": space}

    def _emit(self, action: str, name: str) -> None:
        self.engine.events.emit("volume", action, name, {"driver": "local"})


def _label(labels: dict, f: str) -> bool:
    k, _, v = f.partition("=")
    return k in labels and (not v or labels[k] == v)


def _du(path: str) -> int:
    total = 0
    for root, _, files in os.walk(path):
        for f in files:
            try:
                total += os.lstat(os.path.join(root, f)).st_size
            except OSError:
                pass
    return total
