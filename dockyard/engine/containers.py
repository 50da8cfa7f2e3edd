"""ContainerService: container records (metadata DB + memory) and their lifecycle.

Records are docker's inspect shape, cached in memory (``ps`` never asks the supervisor)
and written through to the ``containers`` table. Running containers live in the
supervisor (:mod:`dockyard.supervisor`); a watcher thread subscribes to its exit/restart
events, so ``wait``, ``stop`` and ``run --rm`` get exits pushed, never polled.

Lifecycle: ``create`` makes the record, the container dir and the rootfs (an active
snapshot keyed by the container id, mounted at ``<exec_root>/bundles/<id>/rootfs``).
``start`` writes config.json, asks the supervisor to create the container (its init
waits), sets up the network, connects pending attaches, then starts it. ``rm`` undoes all.
"""
from __future__ import annotations

import contextlib
import json
import logging
import os
import threading
import time

from dockyard.engine import container_config as cc
from dockyard.engine import container_files as files
from dockyard.engine.container_fs import FsMixin
from dockyard.engine.container_io import IOMixin
from dockyard.engine.container_ops import OpsMixin
from dockyard.engine.container_view import ZERO_TIME, check_filters, matches, ps_row
from dockyard.engine.state import State, is_running
from dockyard.errors import Conflict, DockyardError, NotFound, Unavailable
from dockyard.supervisor.client import SupervisorClient
from dockyard.supervisor.logs import rfc3339nano

log = logging.getLogger("dockyard.containers")
DDL = """CREATE TABLE IF NOT EXISTS containers (
    id TEXT PRIMARY KEY, name TEXT UNIQUE NOT NULL, record TEXT NOT NULL);"""


class ContainerService(IOMixin, OpsMixin, FsMixin):
    def __init__(self, engine):
        self.engine = engine
        engine.meta.ensure_schema("containers", DDL)
        self._lock = threading.RLock()
        self._cond = threading.Condition(self._lock)
        self._op_locks: dict[str, threading.RLock] = {}  # see container_ops.serialized
        self._recs: dict[str, dict] = {
            r["id"]: json.loads(r["record"])
            for r in engine.meta.query("SELECT id, record FROM containers")}
        self._exits: dict[str, int] = {}          # container id → exits seen (for wait)
        self._pending: dict[str, list] = {}       # attaches waiting for start
        self._state_fds: dict[str, set[int]] = {}  # eventfds of `logs -f` followers
        self.execs: dict[str, dict] = {}
        runtime = getattr(engine, "runtime_name", None) or os.environ.get("DOCKYARD_RUNTIME",
                                                                           "dockyard")
        self.runtime = runtime
        self.sup = SupervisorClient(engine.exec_root, runtime)
        self._watching = False
        with contextlib.suppress(ImportError, AttributeError):
            engine.images.in_use_check = self.containers_using_image

    # -- records -----------------------------------------------------------------------
    def get(self, ref: str) -> dict:
        """By full id, name (with or without /) or unique id prefix; NotFound like docker."""
        with self._lock:
            if ref in self._recs:
                return self._recs[ref]
            name = "/" + ref.lstrip("/")
            for rec in self._recs.values():
                if rec["Name"] == name:
                    return rec
            hits = [r for i, r in self._recs.items() if ref and i.startswith(ref)]
        if len(hits) == 1:
            return hits[0]
        if len(hits) > 1:
            raise Conflict(f"multiple IDs found with provided prefix: {ref}")
        raise NotFound(f"No such container: {ref}")

    def _save(self, rec: dict) -> None:
        with self.engine.meta.tx() as db:
            db.execute("INSERT OR REPLACE INTO containers (id, name, record) VALUES (?, ?, ?)",
                       (rec["Id"], rec["Name"], json.dumps(rec)))
        with self._lock:
            self._recs[rec["Id"]] = rec
            self._cond.notify_all()
            self._signal_state(rec["Id"])

    def _signal_state(self, cid: str) -> None:
        """Wake the ``logs -f`` followers of ``cid`` (their eventfds; caller holds the
        lock): a state change may end their stream."""
        for fd in self._state_fds.get(cid, ()):
            try:
                os.eventfd_write(fd, 1)
            except OSError:
                pass

    def _set_state(self, rec: dict, **fields) -> None:
        with self._lock:
            rec["State"].update(fields)
            st = rec["State"]["Status"]
            rec["State"].update(Running=is_running(State(st)), Paused=st == "paused",
                                Restarting=st == "restarting", Dead=st == "dead")
        self._save(rec)

    def list(self, all: bool = False, limit: int = -1, filters: dict | None = None) -> list[dict]:
        check_filters(filters or {})
        with self._lock:
            recs = sorted(self._recs.values(), key=lambda r: r["Created"], reverse=True)
        if not all and not (filters and ("status" in filters or "exited" in filters)):
            recs = [r for r in recs if r["State"]["Running"]]

        def lookup(ref: str):
            try:
                return self.get(ref)
            except NotFound:
                return None
        recs = [r for r in recs if matches(r, filters or {}, self._image_ids, lookup)]
        if limit and limit > 0:
            recs = recs[:limit]
        return [ps_row(r) for r in recs]

    def _image_ids(self, ref: str) -> set[str]:
        try:
            return {self.engine.images.get(ref).id}
        except Exception:
            return set()

    def counts(self) -> dict:
        """For ``GET /info``: totals by state."""
        with self._lock:
            states = [r["State"]["Status"] for r in self._recs.values()]
        running, paused = states.count("running"), states.count("paused")
        return {"total": len(states), "running": running, "paused": paused,
                "stopped": len(states) - running - paused}

    def containers_using_image(self, image_id: str) -> list[str]:
        with self._lock:
            return [r["Id"] for r in self._recs.values() if r["Image"] == image_id]

    def volume_users(self, name: str) -> list[str]:
        with self._lock:
            return [r["Id"] for r in self._recs.values()
                    if any(m.get("Name") == name for m in r.get("Mounts", []))]

    def _emit(self, action: str, rec: dict, **extra) -> None:
        attrs = {"name": rec["Name"].lstrip("/"), "image": rec["Config"].get("Image", ""),
                 **(rec["Config"].get("Labels") or {}), **extra}
        self.engine.events.emit("container", action, rec["Id"], attrs)

    # -- create ------------------------------------------------------------------------
    def create(self, body: dict, name: str | None = None) -> dict:
        """``POST /containers/create``: returns {"Id", "Warnings"}; nothing left on error."""
        image_ref = body.get("Image") or ""
        if not image_ref:
            raise cc.InvalidArgument("config cannot be empty in order to create a container")
        hc = cc.host_config(body)
        from dockyard.engine.container_update import check_create
        warnings: list[str] = []
        check_create(hc, warnings)
        from dockyard.engine import host_options
        host_options.check(hc)
        if hc.get("UTSMode") == "host":
            if (body.get("Hostname") or "").strip():
                raise cc.InvalidArgument("Conflicting options: hostname and the UTS mode")
            body = dict(body, Hostname=os.uname().nodename)  # docker: the host's name
        from dockyard.engine.spec import security_opts
        security_opts(hc.get("SecurityOpt"))  # refused at create, as docker does
        try:
            image = self.engine.images.get(image_ref)
        except NotFound:
            raise NotFound(f"No such image: {image_ref}") from None
        cfg = cc.config(body, image_config(image))
        self._validate_network(hc, cfg, body)
        cid = cc.new_id()
        cfg.setdefault("Hostname", "")
        cfg["Hostname"] = cfg["Hostname"] or cid[:12]
        with self._lock:
            full = cc.check_name(name) if name else cc.random_name(self._name_taken)
            self._check_name_free(full)
            rec = self._new_record(cid, full, cfg, hc, image.id, body)
            self._recs[cid] = rec  # reserve the name while the slow part runs
        with contextlib.ExitStack() as undo:
            undo.callback(self._recs.pop, cid, None)
            self._prepare(rec, image, undo)
            self._save(rec)
            undo.pop_all()
        self._emit("create", rec)
        return {"Id": cid, "Warnings": warnings}

    def _validate_network(self, hc: dict, cfg: dict, body: dict) -> None:
        """Unknown network, bad port, alias or ip: fail ``create`` (docker does), not start."""
        net = self._networks()
        if net is None:
            return
        mode = hc.get("NetworkMode") or "default"
        if mode.startswith("container:"):
            self.get(mode.split(":", 1)[1])  # NotFound names the container
            return
        net.validate_create(mode, (body.get("NetworkingConfig") or {}).get("EndpointsConfig"),
                            hc.get("PortBindings"), cfg.get("ExposedPorts"),
                            bool(hc.get("PublishAllPorts")))

    def _name_taken(self, name: str) -> bool:
        return any(r["Name"] == name for r in self._recs.values())

    def _check_name_free(self, name: str) -> None:
        for r in self._recs.values():
            if r["Name"] == name:
                raise Conflict(f"Conflict. The container name \"{name}\" is already in use by "
                               f"container \"{r['Id']}\". You have to remove (or rename) that "
                               "container to be able to reuse that name.")

    def _prepare(self, rec: dict, image, undo: contextlib.ExitStack) -> None:
        cid = rec["Id"]
        p = files.Paths(self.engine, cid)
        layers = self.engine.images.rootfs_layers(image.id)
        self.engine.snapshots.prepare(cid, layers[-1] if layers else None)
        undo.callback(self.engine.snapshots.remove, cid)
        os.makedirs(p.dir, mode=0o710, exist_ok=True)
        undo.callback(files.remove_dirs, p)
        files.mount_rootfs(self.engine, cid, p, volatile=bool(rec["HostConfig"].get("AutoRemove")))
        donors = self._volumes_from(rec["HostConfig"].get("VolumesFrom") or [])
        rec["Mounts"] = files.volume_mounts(self.engine, rec["Config"], rec["HostConfig"],
                                            volumes_from=donors)
        shared = {m.get("Name") for mounts, _ in donors for m in mounts}
        for m in rec["Mounts"]:
            if m["Type"] == "volume" and m["Name"] and len(m["Name"]) == 64 and \
                    m["Name"] not in shared:
                undo.callback(self._drop_volume, m["Name"])
        files.write_etc_files(p, rec["Config"]["Hostname"], rec["HostConfig"].get("ExtraHosts"),
                              dns=rec["HostConfig"].get("Dns"))

    def _volumes_from(self, specs: list[str]) -> list[tuple[list[dict], str]]:
        """``--volumes-from CONTAINER[:ro|rw]`` → [(its Mounts, mode)]."""
        out = []
        for spec in specs:
            ref, _, mode = str(spec).partition(":")
            if mode not in ("", "ro", "rw"):
                raise cc.InvalidArgument(f"invalid mode for volumes-from: {spec}")
            out.append((self.get(ref)["Mounts"], mode))
        return out

    def _drop_volume(self, name: str) -> None:
        with contextlib.suppress(DockyardError):
            self.engine.volumes.remove(name)

    def _new_record(self, cid: str, name: str, cfg: dict, hc: dict, image_id: str,
                    body: dict) -> dict:
        args = list(cfg.get("Entrypoint") or []) + list(cfg.get("Cmd") or [])
        p = files.Paths(self.engine, cid)
        return {
            "Id": cid, "Created": rfc3339nano(), "Path": args[0] if args else "",
            "Args": args[1:], "State": {
                "Status": "created", "Running": False, "Paused": False, "Restarting": False,
                "OOMKilled": False, "Dead": False, "Pid": 0, "ExitCode": 0, "Error": "",
                "StartedAt": ZERO_TIME, "FinishedAt": ZERO_TIME},
            "Image": image_id, "ResolvConfPath": p.resolv, "HostnamePath": p.hostname,
            "HostsPath": p.hosts, "Name": name, "RestartCount": 0,
            "LogPath": "" if hc["LogConfig"]["Type"] == "none" else p.log,
            "Driver": "overlay2", "Platform": "linux", "MountLabel": "", "ProcessLabel": "",
            "AppArmorProfile": "", "ExecIDs": None, "HostConfig": hc,
            "GraphDriver": {"Name": "overlay2", "Data": None}, "Mounts": [], "Config": cfg,
            "NetworkSettings": {"Networks": {}, "Ports": {}, "SandboxKey": ""},
            "NetworkingConfig": body.get("NetworkingConfig") or {},
        }

    # -- supervisor connection ---------------------------------------------------------
    def recover(self) -> None:
        """At daemon start: (re)connect to the supervisor, reconcile records with it."""
        self._ensure()

    def _ensure(self) -> None:
        if self._watching:
            return
        with self._lock:
            if self._watching:
                return
            self.sup.ensure()
            procs, events = self.sup.subscribe()
            self._lost: list[str] = []
            self._reconcile(procs)
            self._watching = True
        threading.Thread(target=self._watch, args=(events,), name="supervisor-events",
                         daemon=True).start()
        for cid in self._lost:  # outside the lock: start() takes it again
            self._restart_lost(cid)

    def _watch(self, events) -> None:
        try:
            for ev in events:
                try:
                    self._on_event(ev)
                except Exception:
                    log.exception("handling supervisor event %s", ev)
        finally:
            self._watching = False
            log.warning("supervisor connection closed")

    def _reconcile(self, procs: list[dict]) -> None:
        """Containers that exited (or whose supervisor vanished) while nobody watched."""
        held = {p["id"]: p for p in procs if p["kind"] == "container"}
        for rec in list(self._recs.values()):
            if not rec["State"]["Running"]:
                continue
            p = held.get(rec["Id"])
            if p and p["status"] in ("running", "restarting"):
                if p["status"] == "restarting":
                    self._set_state(rec, Status="restarting")
                else:
                    self._watch_health(rec)
                continue
            code, fin = self._exit_record(rec, p)
            if p is None:  # the supervisor holding it is gone: no process may outlive that
                threading.Thread(target=self._kill_lost, args=(rec["Id"],), daemon=True).start()
            self._set_state(rec, Status="exited", ExitCode=code, FinishedAt=fin, Pid=0)
            self._after_exit(rec, restarting=False)
            if p is None and rec["HostConfig"]["RestartPolicy"]["Name"] in ("always",
                                                                           "unless-stopped"):
                # the supervisor itself is new (e.g. after a reboot): docker starts these again
                self._lost.append(rec["Id"])

    def _kill_lost(self, cid: str) -> None:
        """Kill and delete a container whose supervisor died (in the background: the
        runtime waits for the processes to go)."""
        with contextlib.suppress(Exception):
            self._driver().delete(cid, force=True)

    def _restart_lost(self, cid: str) -> None:
        try:
            # its old network (veths, netns, rows) is still there: the network service's
            # own recovery runs after ours, so clean this container's part first
            self._teardown_network(self.get(cid))
            self.start(cid)
        except Exception:
            log.exception("restarting %s after the supervisor was lost", cid)

    def _exit_record(self, rec: dict, p: dict | None) -> tuple[int, str]:
        if p and p.get("exit_code") is not None:
            return p["exit_code"], p["finished_at"]
        try:
            with open(files.Paths(self.engine, rec["Id"]).exit) as f:
                ex = json.load(f)
            return ex["exit_code"], ex["finished_at"]
        except (OSError, ValueError, KeyError):
            return 255, rfc3339nano()

    def _on_event(self, ev: dict) -> None:
        if ev.get("kind") == "exec":
            return self._on_exec_event(ev)
        try:
            rec = self.get(ev["id"])
        except NotFound:
            return
        if ev["event"] == "exit":
            restarting = bool(ev.get("restarting"))
            if not restarting:  # before waiters wake: a restart's new netns must survive
                self._teardown_network(rec)
            self._set_state(rec, Status="restarting" if restarting else "exited",
                            ExitCode=ev.get("exit_code") or 0, Pid=0,
                            FinishedAt=ev.get("finished_at") or rfc3339nano())
            with self._lock:
                self._exits[rec["Id"]] = self._exits.get(rec["Id"], 0) + 1
                self._cond.notify_all()
            self._emit("die", rec, exitCode=str(ev.get("exit_code")))
            self._after_exit(rec, restarting)
        elif ev["event"] == "start":
            rec["RestartCount"] = ev.get("restart_count", rec["RestartCount"])
            self._set_state(rec, Status="running", Pid=ev.get("pid", 0),
                            StartedAt=ev.get("started_at") or rfc3339nano())
            self._emit("start", rec)
            self._watch_health(rec)

    def _after_exit(self, rec: dict, restarting: bool) -> None:
        if restarting:
            return
        if rec["HostConfig"].get("IpcMode") == "shareable":  # its /dev/shm goes, as docker's
            files.unmount_shm(files.Paths(self.engine, rec["Id"]))
        if rec["HostConfig"].get("AutoRemove"):
            threading.Thread(target=self._auto_remove, args=(rec["Id"],), daemon=True).start()

    def _auto_remove(self, cid: str) -> None:
        try:
            self.remove(cid, force=True, volumes=True)
        except NotFound:
            pass
        except Exception:
            log.exception("auto-remove of %s", cid)

    # -- wait --------------------------------------------------------------------------
    def wait(self, ref: str, condition: str = "not-running", timeout: float | None = None) -> dict:
        """Block until the condition holds; returns {"StatusCode", "Error"}."""
        rec = self.get(ref)
        cid = rec["Id"]
        if condition not in ("not-running", "next-exit", "removed", ""):
            raise cc.InvalidArgument(f"invalid condition: {condition!r}")
        with self._cond:
            seen = self._exits.get(cid, 0)
            deadline = None if timeout is None else time.monotonic() + timeout

            def done() -> bool:
                if condition == "removed":
                    return cid not in self._recs
                if condition == "next-exit":
                    return self._exits.get(cid, 0) > seen
                return not self._recs[cid]["State"]["Running"] or self._exits.get(cid, 0) > seen
            while not done():
                left = None if deadline is None else deadline - time.monotonic()
                if left is not None and left <= 0:
                    raise Unavailable(f"timed out waiting for container {ref}")
                self._cond.wait(left)
        code = rec["State"]["ExitCode"]
        return {"StatusCode": code, "Error": None}

    def _wait_exit(self, cid: str, seen: int, timeout: float | None) -> bool:
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._cond:
            while self._exits.get(cid, 0) <= seen and cid in self._recs and \
                    self._recs[cid]["State"]["Status"] in ("running", "paused", "restarting"):
                left = None if deadline is None else deadline - time.monotonic()
                if left is not None and left <= 0:
                    return False
                self._cond.wait(left)
        return True


def image_config(image) -> dict:
    """The runtime part (``config``) of an image's config JSON."""
    full = image.config or {}
    return full.get("config") or {} if ("rootfs" in full or "config" in full) else full
