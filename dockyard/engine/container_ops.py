"""Lifecycle verbs of the container service: start, stop, kill, restart, rm, pause, …"""
from __future__ import annotations

import contextlib
import functools
import threading
import json
import logging
import os
import signal as _signal

from dockyard.engine import container_files as files
from dockyard.engine import spec as ocispec
from dockyard.engine.container_config import check_name, log_opts
from dockyard.engine.container_view import ZERO_TIME
from dockyard.engine.state import State, check_transition
from dockyard.errors import Conflict, DockyardError, InvalidArgument, NotFound, NotModified
from dockyard.supervisor.logs import rfc3339nano

log = logging.getLogger("dockyard.containers")


class Phases:
    """Wall time per step of one operation, logged at debug level for bench/ and profiling:
    ``run phases 1a2b3c: mount=1.2ms netns=0.4ms …``."""

    def __init__(self) -> None:
        import time
        self._clock = time.monotonic
        self._t = self._clock()
        self.parts: list[tuple[str, float]] = []

    def mark(self, name: str) -> None:
        now = self._clock()
        self.parts.append((name, (now - self._t) * 1000))
        self._t = now

    def __str__(self) -> str:
        return " ".join(f"{n}={ms:.1f}ms" for n, ms in self.parts)


class _Concurrent:
    """Run ``fn(*args)`` in a thread for the duration of a ``with`` block; leaving the
    block waits for it and re-raises its error. An error of the block itself wins (it
    is the first thing that went wrong for the caller); the thread's is then logged."""

    def __init__(self, fn, *args) -> None:
        self._fn, self._args, self._error = fn, args, None
        self._thread = threading.Thread(target=self._run, daemon=True,
                                        name=f"concurrent-{fn.__name__}")

    def _run(self) -> None:
        try:
            self._fn(*self._args)
        except BaseException as e:  # handed to the waiting thread
            self._error = e

    def __enter__(self) -> "_Concurrent":
        self._thread.start()
        return self

    def __exit__(self, exc_type, exc, tb) -> bool:
        self._thread.join()
        if self._error is not None:
            if exc is None:
                raise self._error
            log.warning("%s failed too: %s", self._fn.__name__, self._error)
        return False


def serialized(method):
    """One lifecycle operation at a time per container (docker holds a container lock
    too): two restarts racing each other would tear down the network the other set up."""
    @functools.wraps(method)
    def wrapper(self, ref, *args, **kwargs):
        cid = self.get(ref)["Id"]
        with self._lock:
            lock = self._op_locks.setdefault(cid, threading.RLock())
        with lock:
            return method(self, cid, *args, **kwargs)
    return wrapper


class OpsMixin:
    # -- start -------------------------------------------------------------------------
    @serialized
    def start(self, ref: str) -> None:
        """Start a created or exited container (304 if it is already running)."""
        self._ensure()
        rec = self.get(ref)
        st = State(rec["State"]["Status"])
        if st in (State.RUNNING, State.RESTARTING):
            raise NotModified("container already started")
        if st == State.PAUSED:
            raise Conflict("cannot start a paused container, try unpause instead")
        check_transition(st, State.RUNNING, rec["Name"].lstrip("/"))
        try:
            self._start(rec)
        except DockyardError as e:
            code = 127 if "not found" in str(e) else 126 if "permission denied" in str(e) else 128
            self._set_state(rec, Error=str(e), ExitCode=code)
            if rec["HostConfig"].get("AutoRemove"):  # as dockerd: a --rm container that
                self._auto_remove(rec["Id"])          # cannot start is removed at once
            raise
        self._emit("start", rec)
        self._watch_health(rec)

    def _watch_health(self, rec: dict) -> None:
        from dockyard.engine.health import HealthMonitor, probe_args
        if probe_args((rec["Config"].get("Healthcheck") or {}).get("Test")):
            HealthMonitor(self, rec["Id"]).start()

    def _start(self, rec: dict) -> None:
        cid, hc, cfg = rec["Id"], rec["HostConfig"], rec["Config"]
        p = files.Paths(self.engine, cid)
        ph = Phases()
        with contextlib.ExitStack() as undo:
            files.mount_rootfs(self.engine, cid, p, volatile=bool(hc.get("AutoRemove")))
            ph.mark("mount")
            netns = self._netns(rec)
            ph.mark("netns")
            undo.callback(self._teardown_network, rec)
            undo.callback(files.unmount_shm, p)  # --ipc shareable's, if the start fails
            self._write_config(rec, p, netns)
            ph.mark("config")
            with contextlib.suppress(DockyardError):
                self.sup.call("delete", id=cid, force=True)  # a stale process from a last run
            driver = hc["LogConfig"]["Type"]
            size, nfile = log_opts(hc["LogConfig"]["Config"], driver)
            # The network (veth, address, port rules, /etc/hosts) is set up while the
            # supervisor creates the container: both only need the netns, and the init
            # waits for "start" before it runs anything.
            with _Concurrent(self._setup_network, rec, netns):
                pid = self.sup.call(
                    "create", id=cid, bundle=p.bundle, tty=cfg["Tty"], stdin=cfg["OpenStdin"],
                    stdin_once=cfg["StdinOnce"], exit_file=p.exit,
                    log=None if driver == "none" else
                    {"path": p.log, "max_size": size, "max_file": nfile},
                    restart=hc["RestartPolicy"])["pid"]
                undo.callback(self._sup_delete, cid)
            ph.mark("create+net")
            self._connect_pending(cid)
            # Running before the init is released: a fast exit event must find it running.
            self._set_state(rec, Status="running", Pid=pid, ExitCode=0, Error="",
                            StartedAt=rfc3339nano(), FinishedAt=ZERO_TIME)
            try:
                self.sup.call("start", id=cid)
            except BaseException:
                self._set_state(rec, Status="exited" if rec["State"]["StartedAt"] else "created",
                                Pid=0)
                raise
            ph.mark("start")
            undo.pop_all()
        log.debug("run phases: %s (container %s)", ph, cid[:12])

    def _sup_delete(self, cid: str) -> None:
        with contextlib.suppress(DockyardError):
            self.sup.call("delete", id=cid, force=True)

    def _write_config(self, rec: dict, p, netns) -> None:
        for m in rec["Mounts"]:
            files.copy_up_volume(p.rootfs, m)
        paths = {"rootfs": p.rootfs, "hostname": p.hostname, "hosts": p.hosts,
                 "resolv_conf": p.resolv, "netns": netns,
                 "user": ocispec.resolve_user(p.rootfs, rec["Config"].get("User") or ""),
                 "mounts": files.oci_mounts(rec["Mounts"]),
                 "seccomp": "default",
                 "init": ocispec.init_binary() if rec["HostConfig"].get("Init") else None}
        config = ocispec.build(rec, {}, paths)  # Config already carries the image's defaults
        from dockyard.engine import host_options
        host_options.apply(config, rec["HostConfig"], self._joined_namespaces(rec),
                           ocispec._read_db(os.path.join(p.rootfs, "etc/group")),
                           self._shm_source(rec, p))
        tmp = p.config + ".tmp"
        with open(tmp, "w") as f:
            json.dump(config, f)
        os.replace(tmp, p.config)

    def _joined_namespaces(self, rec: dict) -> dict:
        """{"pid"|"ipc": /proc/<pid>/ns/…} for ``--pid``/``--ipc container:<x>``; the
        other container must be running, as docker requires."""
        out = {}
        for kind, key in (("pid", "PidMode"), ("ipc", "IpcMode")):
            mode = rec["HostConfig"].get(key) or ""
            if not mode.startswith("container:"):
                continue
            other = self.get(mode.split(":", 1)[1])
            if not other["State"]["Running"]:
                raise Conflict(f"cannot join {kind.upper()} of a non running container: "
                               f"{other['Id']}")
            if kind == "ipc" and other["HostConfig"].get("IpcMode") != "shareable":
                raise InvalidArgument(f"container {other['Id']}: non-shareable IPC (hint: "
                                      "use IpcMode:shareable for the donor container)")
            out[kind] = f"/proc/{other['State']['Pid']}/ns/{kind}"
        return out

    def _shm_source(self, rec: dict, p) -> str | None:
        """The host tmpfs behind /dev/shm: this container's own (mounted now) with
        ``--ipc shareable``, the donor's with ``--ipc container:<x>``; else None."""
        mode = rec["HostConfig"].get("IpcMode") or ""
        if mode == "shareable":
            from dockyard.engine.host_options import DEFAULT_SHM
            files.mount_shm(p, int(rec["HostConfig"].get("ShmSize") or 0) or DEFAULT_SHM)
            return p.shm
        if mode.startswith("container:"):
            donor = files.Paths(self.engine, self.get(mode.split(":", 1)[1])["Id"])
            return donor.shm if os.path.ismount(donor.shm) else None
        return None

    # -- network (engine.networks, when that service is installed) ----------------------
    def _networks(self):
        try:
            return self.engine.networks
        except (ImportError, AttributeError):
            return None

    def _netns(self, rec: dict):
        """The netns path for config.json: "host", an existing one, or None (new one)."""
        mode = rec["HostConfig"].get("NetworkMode") or "default"
        if mode == "host":
            return "host"
        net = self._networks()
        if mode.startswith("container:"):
            other = self.get(mode.split(":", 1)[1])
            if not other["State"]["Running"]:
                raise Conflict(f"cannot join network of a non running container: {other['Id']}")
            if net is not None:
                return net.netns_for(f"container:{other['Id']}")
            return f"/proc/{other['State']['Pid']}/ns/net"
        if net is None:
            return None  # no network service: a fresh netns with loopback only
        path = net.create_netns(rec["Id"])
        rec["NetworkSettings"]["SandboxKey"] = path
        return path

    def _setup_network(self, rec: dict, netns) -> None:
        net, hc, cfg = self._networks(), rec["HostConfig"], rec["Config"]
        if net is None:
            return
        settings = net.setup_container(
            rec["Id"], None if netns == "host" else netns, rec["Name"].lstrip("/"),
            cfg["Hostname"], hc.get("NetworkMode") or "default",
            (rec.get("NetworkingConfig") or {}).get("EndpointsConfig") or {},
            hc.get("PortBindings") or {}, cfg.get("ExposedPorts") or {},
            bool(hc.get("PublishAllPorts")), dns_servers=hc.get("Dns") or None)
        hosts, dns = settings.pop("EtcHosts", None), settings.pop("DNS", None)
        search, opts = settings.pop("DNSSearch", None), settings.pop("DNSOptions", None)
        rec["NetworkSettings"] = settings
        p = files.Paths(self.engine, rec["Id"])
        # on a user network DNS is the embedded server, which forwards to --dns itself
        files.write_network_files(p, hosts, self._extra_hosts(hc, net), dns,
                                  hc.get("DnsSearch") or search, hc.get("DnsOptions") or opts)

    @staticmethod
    def _extra_hosts(hc: dict, net) -> list[str]:
        """--add-host entries, with docker's ``host-gateway`` replaced by the host's address."""
        out = []
        for entry in hc.get("ExtraHosts") or []:
            name, _, addr = entry.partition(":")
            out.append(f"{name}:{net.host_gateway()}" if addr == "host-gateway" else entry)
        return out

    def _teardown_network(self, rec: dict, forget: bool = False) -> None:
        net = self._networks()
        if net is None:
            return
        try:
            (net.forget_container if forget else net.teardown_container)(rec["Id"])
        except Exception:
            log.exception("network teardown of %s", rec["Id"])
        rec["NetworkSettings"].update(SandboxKey="", Ports={})

    def running_network_info(self) -> list[dict]:
        """For the network service's recover(): running containers and their netns."""
        with self._lock:
            return [{"id": r["Id"], "netns": r["NetworkSettings"].get("SandboxKey"),
                     "settings": r["NetworkSettings"]} for r in self._recs.values()
                    if r["State"]["Running"]]

    # -- stop / kill / restart ---------------------------------------------------------
    @serialized
    def stop(self, ref: str, timeout: int | None = None, signal: str | None = None) -> None:
        self._ensure()
        rec = self.get(ref)
        cid = rec["Id"]
        if not rec["State"]["Running"]:
            raise NotModified("container already stopped")
        if timeout is None:
            timeout = rec["Config"].get("StopTimeout")
        timeout = 10 if timeout is None else int(timeout)
        sig = signal or rec["Config"].get("StopSignal") or "SIGTERM"
        seen = self._exits.get(cid, 0)
        if rec["State"]["Status"] == "paused":
            self._resume_quietly(cid)
        self._signal(cid, sig, manual=True)
        if timeout < 0 or not self._wait_exit(cid, seen, timeout):
            self._signal(cid, "SIGKILL", manual=True)
            self._wait_exit(cid, seen, None)
        self._emit("stop", rec)

    def _signal(self, cid: str, sig, manual: bool) -> None:
        try:
            self.sup.call("kill", id=cid, signal=sig, manual=manual, all=False)
        except (Conflict, NotFound):
            pass  # it exited meanwhile: the exit event is on its way

    def _resume_quietly(self, cid: str) -> None:
        with contextlib.suppress(Exception):
            self._driver().resume(cid)

    def kill(self, ref: str, signal: str | None = None) -> None:
        self._ensure()
        rec = self.get(ref)
        name = rec["Id"]
        if not rec["State"]["Running"] or rec["State"]["Status"] == "restarting":
            raise Conflict(f"cannot kill container: {ref}: container {name} is not running")
        sig = signal or "SIGKILL"
        _check_signal(sig)
        manual = _signum(sig) in (_signal.SIGKILL, _signal.SIGTERM, _signal.SIGINT)
        self.sup.call("kill", id=name, signal=sig, manual=manual, all=False)
        self._emit("kill", rec, signal=str(_signum(sig)))

    @serialized
    def restart(self, ref: str, timeout: int | None = None, signal: str | None = None) -> None:
        rec = self.get(ref)
        with contextlib.suppress(NotModified):
            self.stop(rec["Id"], timeout, signal)
        self.start(rec["Id"])
        self._emit("restart", rec)

    # -- remove ------------------------------------------------------------------------
    @serialized
    def remove(self, ref: str, force: bool = False, volumes: bool = False) -> None:
        rec = self.get(ref)
        cid, name = rec["Id"], rec["Name"].lstrip("/")
        if rec["State"]["Running"]:
            if not force:
                check_transition(State(rec["State"]["Status"]), State.REMOVING, name)
            self._ensure()
            seen = self._exits.get(cid, 0)
            if rec["State"]["Status"] == "paused":
                self._resume_quietly(cid)
            self._signal(cid, "SIGKILL", manual=True)
            self._wait_exit(cid, seen, 10)
        with self._lock:
            if rec["State"]["Status"] == "removing":
                raise Conflict(f"removal of container {name} is already in progress")
            rec["State"]["Status"] = "removing"
        self._destroy(rec, volumes)
        self._emit("destroy", rec)

    def _destroy(self, rec: dict, volumes: bool) -> None:
        cid = rec["Id"]
        ph = Phases()
        with contextlib.suppress(DockyardError):
            self.sup.call("delete", id=cid, force=True)
        ph.mark("delete")
        self._teardown_network(rec, forget=True)
        ph.mark("net")
        p = files.Paths(self.engine, cid)
        files.remove_dirs(p)
        ph.mark("dirs")
        with contextlib.suppress(NotFound):
            self.engine.snapshots.remove(cid)
        ph.mark("snapshot")
        with self.engine.meta.tx() as db:
            db.execute("DELETE FROM containers WHERE id = ?", (cid,))
        ph.mark("db")
        log.debug("rm phases: %s (container %s)", ph, cid[:12])
        with self._lock:
            self._recs.pop(cid, None)
            self._op_locks.pop(cid, None)
            self._stats_cache().pop(cid, None)
            self._signal_state(cid)  # a follower of its logs ends now
            for eid in rec.get("ExecIDs") or []:
                self.execs.pop(eid, None)
            self._cond.notify_all()
        if volumes:
            for m in rec.get("Mounts", []):
                anon = m["Type"] == "volume" and len(m.get("Name", "")) == 64
                if anon:
                    self._drop_volume(m["Name"])

    def prune(self, filters: dict | None = None) -> dict:
        from dockyard.filters import labels_match, until
        from dockyard.supervisor.logs import parse_time
        filters = filters or {}
        before = until(filters)
        deleted, space = [], 0
        for row in self.list(all=True, filters={"status": ["exited", "created", "dead"]}):
            rec = self.get(row["Id"])
            if not labels_match(rec["Config"].get("Labels") or {}, filters):
                continue
            if before is not None and parse_time(rec["Created"]) >= before:
                continue
            with contextlib.suppress(DockyardError):
                space += self.size_rw(row["Id"])
                self.remove(row["Id"])
                deleted.append(row["Id"])
        return {"ContainersDeleted": deleted, "SpaceReclaimed": space}

    # -- pause / rename / top / stats --------------------------------------------------
    def _driver(self):
        from dockyard.supervisor.drivers import make_driver
        return make_driver(self.runtime, os.path.join(self.engine.exec_root, "runtime",
                                                      self.runtime))

    @serialized
    def pause(self, ref: str) -> None:
        rec = self.get(ref)
        if rec["State"]["Status"] == "paused":
            raise Conflict(f"Container {rec['Id']} is already paused")
        if rec["State"]["Status"] != "running":
            raise Conflict(f"Container {rec['Id']} is not running")
        self._driver().pause(rec["Id"])
        self._set_state(rec, Status="paused")
        self._emit("pause", rec)

    @serialized
    def unpause(self, ref: str) -> None:
        rec = self.get(ref)
        if rec["State"]["Status"] != "paused":
            raise Conflict(f"Container {rec['Id']} is not paused")
        self._driver().resume(rec["Id"])
        self._set_state(rec, Status="running")
        self._emit("unpause", rec)

    def rename(self, ref: str, new: str) -> None:
        rec = self.get(ref)
        full = check_name(new)
        with self._lock:
            if rec["Name"] == full:
                raise InvalidArgument("Renaming a container with the same name as its current "
                                      "name")
            self._check_name_free(full)
            old, rec["Name"] = rec["Name"], full
        self._save(rec)
        net = self._networks()
        if net is not None:  # the embedded DNS answers to the new name
            net.rename_container(rec["Id"], full)
        self._emit("rename", rec, oldName=old)

    # -- update ----------------------------------------------------------------------
    @serialized
    def update(self, ref: str, body: dict) -> list[str]:
        """``docker update``: new resource limits and/or restart policy. A running (or
        paused) container gets the limits in its cgroup at once; the record and the
        bundle's config.json keep them for later starts. Returns docker's warnings."""
        from dockyard.engine import container_update as cu
        from dockyard.engine.container_config import restart_policy
        rec = self.get(ref)
        cid = rec["Id"]
        if rec["State"].get("Dead") or rec["State"]["Status"] == "removing":
            raise Conflict(f"Cannot update container {cid}: container is marked for removal "
                           "and cannot be \"update\"")
        warnings: list[str] = []
        req = cu.check(cu.requested(body), *cu.host_limits(), warnings)
        rp = body.get("RestartPolicy") or {}
        restart = restart_policy(rp) if rp.get("Name") else None
        try:
            hc = cu.merge(rec["HostConfig"], req, restart)
        except Conflict as e:
            raise Conflict(f"Cannot update container {cid}: {e}") from None
        live = cu.live_resources(req)
        if live and rec["State"]["Status"] in ("running", "paused"):
            try:
                self._driver().update(cid, live)
            except DockyardError as e:
                raise DockyardError(f"Cannot update container {cid}: {e}") from None
        with self._lock:
            rec["HostConfig"] = hc
        self._save(rec)
        self._patch_bundle_resources(rec)
        if restart is not None:
            with contextlib.suppress(NotFound, InvalidArgument):  # not there, or an older
                self.sup.call("update", id=cid, restart=restart)  # supervisor: next start
        self._emit("update", rec)
        return warnings

    def _patch_bundle_resources(self, rec: dict) -> None:
        """A restart by policy reuses the bundle: give its config.json the new limits."""
        path = files.Paths(self.engine, rec["Id"]).config
        try:
            with open(path) as f:
                config = json.load(f)
        except (OSError, ValueError):
            return  # no bundle (never started): the next start writes it whole
        hc = rec["HostConfig"]
        old = config.setdefault("linux", {}).get("resources") or {}
        new = ocispec.resources(hc, bool(hc.get("Privileged")))
        new["devices"] = old.get("devices") or new["devices"]  # with --device rules
        if (old.get("memory") or {}).get("disableOOMKiller"):
            new.setdefault("memory", {})["disableOOMKiller"] = True
        config["linux"]["resources"] = new
        tmp = path + ".tmp"
        with open(tmp, "w") as f:
            json.dump(config, f)
        os.replace(tmp, path)

    def top(self, ref: str, ps_args: str = "-ef") -> dict:
        rec = self.get(ref)
        if not rec["State"]["Running"]:
            raise Conflict(f"container {rec['Id']} is not running")
        pids = self._driver().ps(rec["Id"])
        return _ps_table(pids)

    # the last sample per container (in memory; dropped by _destroy): the precpu of
    # the next stream=false answer, so the CLI's CPU % is a delta without a wait
    STATS_PRIME_DELAY = 0.25          # s between two samples when no recent one is kept
    STATS_PREVIOUS_AGE = (0.1, 5.0)   # a kept sample is used as precpu when this old (s)

    def stats(self, ref: str, one_shot: bool = False, previous: dict | None = None) -> dict:
        """One sample in docker's shape (engine/container_stats.py).

        ``one_shot``: no precpu_stats, as docker's ``one-shot=true``. Otherwise precpu
        is ``previous`` (a stream's last sample), else the sample kept from an earlier
        request when it is 0.1-5 s old, else a sample taken STATS_PRIME_DELAY before
        this one (dockerd waits for its collector's next tick instead, ≈1 s)."""
        import time
        from dockyard.engine import container_stats as cs
        rec = self.get(ref)
        cur = self._stats_sample(rec)
        if cur is None:
            return cs.not_running(rec)
        if not one_shot:
            if previous is None:
                previous = self._stats_kept(rec)
            if previous is None:
                time.sleep(self.STATS_PRIME_DELAY)
                previous, cur = cur, self._stats_sample(rec)
                if cur is None:
                    return cs.not_running(rec)
            cs.set_previous(cur, previous)
        self._stats_keep(rec, cur)
        return cur

    def _stats_sample(self, rec: dict) -> dict | None:
        """A sample without precpu; None when the container is not (or no longer) running."""
        if not rec["State"]["Running"]:
            return None
        try:
            raw = self._driver().stats(rec["Id"])
        except (NotFound, Conflict):
            return None  # it exited between the record's state and the runtime's
        from dockyard.engine.container_stats import docker_stats
        return docker_stats(rec, raw or {}, self._stats_networks(rec))

    def _stats_networks(self, rec: dict) -> dict | None:
        """{ifname: counters} of the container's own endpoints (docker's libnetwork
        interfaces: not lo); None for host, none and container:<x> networking."""
        mode = rec["HostConfig"].get("NetworkMode") or "default"
        if mode in ("host", "none") or mode.startswith("container:"):
            return None
        net = self._networks()
        if net is None:
            return None
        names = {ep["ifname"] for ep in net.store.endpoints(rec["Id"])}
        if not names:
            return None
        from dockyard.engine.container_stats import net_dev
        return net_dev(rec["State"].get("Pid") or 0, names)

    def _stats_cache(self) -> dict:
        return self.__dict__.setdefault("_stats_last", {})

    def _stats_kept(self, rec: dict) -> dict | None:
        import time
        kept = self._stats_cache().get(rec["Id"])
        if kept is None:
            return None
        t, started, sample = kept
        low, high = self.STATS_PREVIOUS_AGE
        if started != rec["State"].get("StartedAt") or not low <= time.monotonic() - t <= high:
            return None  # a restart reset the counters, or too close/old for a rate
        return sample

    def _stats_keep(self, rec: dict, sample: dict) -> None:
        import time
        self._stats_cache()[rec["Id"]] = (time.monotonic(), rec["State"].get("StartedAt"),
                                          sample)

    def size_rw(self, cid: str) -> int:
        try:
            upper = self.engine.snapshots.upper(cid)
        except NotFound:
            return 0
        total = 0
        for root, _, names in os.walk(upper):
            for n in names:
                with contextlib.suppress(OSError):
                    total += os.lstat(os.path.join(root, n)).st_size
        return total

    def close(self) -> None:
        """dockyardd stops: containers keep running in the supervisor."""


def _signum(sig) -> int:
    s = str(sig).upper()
    if s.isdigit():
        return int(s)
    return int(getattr(_signal, s if s.startswith("SIG") else "SIG" + s))


def _check_signal(sig) -> None:
    try:
        _signum(sig)
    except (AttributeError, ValueError):
        raise InvalidArgument(f"Invalid signal: {sig}") from None


def _ps_table(pids: list[int]) -> dict:
    """``docker top``'s default table (UID PID PPID C STIME TTY TIME CMD) from /proc."""
    rows = []
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as f:
                stat = f.read()
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                cmd = f.read().replace(b"\0", b" ").decode(errors="replace").strip()
            uid = os.stat(f"/proc/{pid}").st_uid
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        ppid = fields[1]
        cpu = (int(fields[11]) + int(fields[12])) // os.sysconf("SC_CLK_TCK")
        rows.append([_user(uid), str(pid), ppid, "0", "", "?",
                     f"{cpu // 3600:02d}:{cpu // 60 % 60:02d}:{cpu % 60:02d}",
                     cmd or stat.split("(", 1)[1].rsplit(")", 1)[0]])
    return {"Titles": ["UID", "PID", "PPID", "C", "STIME", "TTY", "TIME", "CMD"],
            "Processes": rows}


def _user(uid: int) -> str:
    import pwd
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return str(uid)
