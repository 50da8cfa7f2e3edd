"""NetworkService: networks, container networking and its recovery (``engine.networks``).

Life cycle of a container's networking, as the container service drives it::

    create_netns(id) ──► runtime create (joins the netns) ──► setup_container(...)
        ──► runtime start … stop ──► teardown_container(id)

``setup_container`` raises Conflict for a taken host port before the container starts
and leaves nothing behind when it fails. State lives in the metadata database
(see :mod:`dockyard.network.store`); :meth:`recover` (daemon start) puts back bridges,
NAT rules and port reservations for running containers and removes leftovers of
containers that are gone; :meth:`close` (daemon stop) removes bridges and rules when
no container is attached any more.
"""
from __future__ import annotations

import contextlib
import json
import logging
import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor

from dockyard.errors import DockyardError, InvalidArgument, NotFound
from dockyard.network import hostfiles, netns, portmap, portspec
from dockyard.network.admin import AdminMixin
from dockyard.network.config import NetConfig
from dockyard.network.ports import PortReserver
from dockyard.network.sandbox import (BUILTIN_MODES, ConnectMixin, SandboxMixin, check_aliases,
                                      normalize_mode)
from dockyard.network.views import empty_endpoint, endpoint_settings, ports_settings
from dockyard.network.store import NetStore

log = logging.getLogger("dockyard.network")
# after a setup, when the standby iptables-restore and the spare netns are made again:
# once the container start it belongs to is (typically) over
REFILL_DELAY = 0.1


class NetworkService(AdminMixin, SandboxMixin, ConnectMixin):
    """Engine service for networks; see the module docstring for the life cycle."""

    def __init__(self, engine) -> None:
        self.engine = engine
        self.cfg = NetConfig.for_exec_root(engine.exec_root)
        self.netns_dir = os.path.join(engine.exec_root, "netns")
        self.store = NetStore(engine.meta)
        self.ports = PortReserver()
        self._lock = threading.RLock()
        self._links = self._dns = None
        self._ready: set[str] = set()  # networks whose bridge (and DNS) are up
        self._chains_ready = False
        self._dns_names: dict[str, dict[str, list[str]]] = {}
        self._ext_dns: dict[str, list[str]] = {}  # container ip → its --dns servers
        # one worker: background veth deletions, drained at close()
        self._janitor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="net-janitor")
        self._janitor_links = None
        self._spare: str | None = None  # an empty netns made ahead of need (create_netns)
        self._spare_wanted = False
        self._spare_lock = threading.Lock()  # not self._lock: a setup holds that one long
        self._refill_timer: threading.Timer | None = None
        self._closing = False
        self.ensure_builtin()

    # -- lazily created kernel-facing helpers ------------------------------
    @property
    def links(self):
        if self._links is None:
            self._links = self._make_links()
            self.mtu = self._links.host_mtu()
        return self._links

    def _make_links(self):
        """A netlink handle on the host namespace (the kernel seam unit tests replace)."""
        from dockyard.network.bridge import Links
        return Links()

    @property
    def dns(self):
        if self._dns is None:
            from dockyard.network.dns import DNSServer
            self._dns = DNSServer(self._lookup, upstreams_for=lambda ip: self._ext_dns.get(ip))
        return self._dns

    def _prepare_next(self, delay: float = 0.0) -> None:
        """After a setup or teardown, off its critical path (on the janitor thread, after
        ``delay`` seconds): an idle iptables-restore ready for the next NAT batch (see
        portmap._Standby) and a spare netns for the next container (see create_netns)."""
        with self._spare_lock:
            if self._refill_timer is not None:
                self._refill_timer.cancel()
                self._refill_timer = None
            if delay:
                self._refill_timer = threading.Timer(delay, self._prepare_next)
                self._refill_timer.daemon = True
                self._refill_timer.start()
                return
        if self._closing:
            return
        try:
            self._janitor.submit(self._keep_standby)
            self._janitor.submit(self._keep_spare)
        except RuntimeError:  # close() is shutting the janitor down
            pass

    @staticmethod
    def _keep_standby() -> None:
        try:
            portmap.keep_standby()
        except Exception:  # the next batch starts its own process
            log.warning("network: cannot start a standby iptables-restore", exc_info=True)

    def _janitor_delete(self, name: str) -> None:
        """Runs on the janitor thread, with a netlink socket of its own so a slow
        deletion never holds up a container start on the shared one."""
        if self._janitor_links is None:
            self._janitor_links = self._make_links()
        try:
            self._janitor_links.delete(name)
        except Exception:  # the netns going away removes it anyway
            log.warning("network: deleting %s failed", name, exc_info=True)

    # -- netns ---------------------------------------------------------------
    def create_netns(self, container_id: str) -> str:
        """A new persistent netns for a container: ``<exec_root>/netns/<id>``.

        Making a namespace (unshare in a helper thread, ≈1.5 ms) is on the critical path
        of a container start, so one empty namespace is made ahead of need on the
        janitor thread (``.spare-*``) and adopted here (a bind mount, ≈0.5 ms); it is as
        new as one made now: nothing ever ran in it. Without a spare, one is made."""
        path = os.path.join(self.netns_dir, container_id)
        if os.path.lexists(path):
            netns.remove(path)  # a leftover of a crash
        self._spare_wanted = True
        with self._spare_lock:
            spare, self._spare = self._spare, None
        if spare is not None:
            try:
                return netns.adopt(spare, path)
            except OSError:
                log.warning("network: cannot adopt spare netns %s", spare, exc_info=True)
                netns.remove(spare)
        return netns.create(path)

    def _keep_spare(self) -> None:
        """Runs on the janitor thread: make the spare netns if there is none."""
        if not self._spare_wanted or self._spare is not None or self._closing:
            return
        path = os.path.join(self.netns_dir, f".spare-{os.urandom(4).hex()}")
        try:
            netns.create(path)
        except OSError:
            log.warning("network: cannot make a spare netns", exc_info=True)
            return
        with self._spare_lock:
            if self._spare is None and not self._closing:
                self._spare, path = path, None
        if path is not None:
            netns.remove(path)

    def _drop_spare(self) -> None:
        with self._spare_lock:
            spare, self._spare = self._spare, None
        if spare is not None:
            netns.remove(spare)

    def netns_for(self, mode: str) -> str | None:
        """The netns a container of ``mode`` joins: the other container's for
        ``container:<id|name>``; None for host (no netns at all) and for every other
        mode (the caller creates one with :meth:`create_netns`)."""
        if not mode.startswith("container:"):
            return None
        ref = mode.partition(":")[2]
        for sb in self.store.sandboxes():
            if ref in (sb["container_id"], sb["name"].lstrip("/")) or \
                    (len(ref) >= 3 and sb["container_id"].startswith(ref)):
                if sb["netns"]:
                    return sb["netns"]
        raise NotFound(f"container {ref} for network mode {mode} is not running")

    def host_gateway(self) -> str:
        """The host's address as containers see it (``--add-host x:host-gateway``)."""
        return self._network("bridge")["gateway"]

    # -- container setup / teardown -------------------------------------------
    def check_ports(self, port_bindings: dict, exposed_ports: dict | None = None,
                    publish_all: bool = False) -> None:
        """Validate bindings (InvalidArgument) and fail early on an exact host port in use."""
        for b in portspec.bindings(port_bindings, exposed_ports, publish_all):
            if b.host_lo and b.host_lo == b.host_hi:
                self.ports.take(b.proto, b.host_ip, b.host_lo)
                self.ports.release(b.proto, b.host_ip, b.host_lo)

    def validate_create(self, network_mode: str | None, endpoints: dict | None,
                        port_bindings: dict | None = None, exposed_ports: dict | None = None,
                        publish_all: bool = False) -> None:
        """Check a container's network config at create time, so ``create`` fails (not
        ``start``): unknown network → NotFound; bad port, alias or ip → InvalidArgument."""
        mode = normalize_mode(network_mode)
        portspec.bindings(port_bindings, exposed_ports, publish_all)
        if mode in BUILTIN_MODES or mode.startswith("container:"):
            return
        for ref, cfg in {mode: {}, **(endpoints or {})}.items():
            net = self._network(ref)
            cfg = cfg or {}
            if net.get("builtin") and cfg.get("Aliases"):
                raise InvalidArgument("network-scoped aliases are supported only for containers "
                                      "in user defined networks")
            if net.get("builtin") and (cfg.get("IPAMConfig") or {}).get("IPv4Address"):
                raise InvalidArgument("user specified IP address is supported only on user "
                                      "defined networks")
            check_aliases(cfg, net["name"])

    def setup_container(self, container_id: str, netns_path: str | None, name: str,
                        hostname: str, network_mode: str, endpoints: dict | None,
                        port_bindings: dict | None, exposed_ports: dict | None,
                        publish_all: bool = False, dns_servers: list[str] | None = None) -> dict:
        """Attach a container to its networks and publish its ports; returns docker's
        NetworkSettings plus ``EtcHosts`` (lines), ``DNS``, ``DNSSearch``, ``DNSOptions``
        for /etc/hosts and /etc/resolv.conf (the caller removes those four keys).
        ``dns_servers`` (``--dns``): on a user network the embedded DNS stays the
        container's resolver and forwards other names there (as docker); elsewhere they
        are the returned ``DNS``.

        Raises: NotFound (unknown network), InvalidArgument (bad port/alias/ip),
        Conflict (host port or address taken)."""
        started = time.perf_counter()
        mode = normalize_mode(network_mode)
        name = (name or "").lstrip("/")
        wanted = portspec.bindings(port_bindings, exposed_ports, publish_all)
        with self._lock:
            if self.store.sandbox(container_id):
                self.teardown_container(container_id)
            if mode == "host" or mode.startswith("container:"):
                return self._setup_shared(container_id, netns_path, name, hostname, mode)
            if not netns_path:
                raise InvalidArgument(f"network mode {mode} needs the container's netns "
                                      "(create_netns) and none was given")
            with contextlib.ExitStack() as stack:
                self._add_sandbox(stack, container_id, name, hostname, mode, netns_path)
                self._set_ext_dns(container_id, dns_servers)
                if mode == "none":
                    from dockyard.network.bridge import configure_container
                    configure_container(netns_path, None, None)
                else:
                    self._attach_all(stack, container_id, netns_path, mode, endpoints, wanted)
                stack.pop_all()
        self._refresh_ext_dns()
        settings = self.settings(container_id, exposed_ports)
        log.debug("network: set up %s (%s) in %.1f ms", container_id[:12], mode,
                  (time.perf_counter() - started) * 1e3)
        # not now: the engine sets the network up while the runtime creates the
        # container, and forking iptables or making a netns would compete with that
        self._prepare_next(delay=REFILL_DELAY)
        return settings

    def _add_sandbox(self, stack, cid, name, hostname, mode, netns_path) -> None:
        with self.store.meta.tx() as db:
            db.execute("INSERT INTO net_sandboxes VALUES (?, ?, ?, ?, ?)",
                       (cid, name, hostname or "", mode, netns_path))
        stack.callback(self._delete_sandbox_row, cid)

    def _delete_sandbox_row(self, cid: str) -> None:
        with self.store.meta.tx() as db:
            db.execute("DELETE FROM net_sandboxes WHERE container_id = ?", (cid,))
            db.execute("DELETE FROM net_dns WHERE container_id = ?", (cid,))
        self._refresh_ext_dns()

    def _set_ext_dns(self, cid: str, servers: list[str] | None) -> None:
        """Record ``--dns`` servers (the sandbox row's removal takes them along)."""
        if servers:
            with self.store.meta.tx() as db:
                db.execute("INSERT OR REPLACE INTO net_dns VALUES (?, ?)",
                           (cid, json.dumps(list(servers))))

    def _refresh_ext_dns(self) -> None:
        rows = self.store.meta.query("SELECT e.ip, d.servers FROM net_endpoints e "
                                     "JOIN net_dns d ON d.container_id = e.container_id")
        self._ext_dns = {r[0]: json.loads(r[1]) for r in rows}

    def _attach_all(self, stack, cid, netns_path, mode, endpoints, wanted) -> None:
        """Lease every address, start the NAT batch, plumb the veths while iptables-restore
        runs, then wait for it (it costs as much as all the rest)."""
        nets = self._networks_for(mode, endpoints or {}, cid)
        eps = [self._lease(stack, net, cid, cfg, f"eth{i}") for i, (net, cfg) in enumerate(nets)]
        pending = self._publish(stack, cid, eps[0]["ip"], wanted)
        for i, ((net, _cfg), ep) in enumerate(zip(nets, eps)):
            self._plumb(net, ep, netns_path, i == 0)
        pending.wait()

    def _setup_shared(self, cid, netns_path, name, hostname, mode) -> dict:
        """host / container:<x>: nothing to create, only remember the sandbox."""
        shared = self.netns_for(mode) if mode.startswith("container:") else None
        with self.store.meta.tx() as db:
            db.execute("INSERT INTO net_sandboxes VALUES (?, ?, ?, ?, ?)",
                       (cid, name, hostname or "", mode, shared))
        return self.settings(cid, None)

    def teardown_container(self, container_id: str) -> None:
        """Remove a container's rules, port reservations, veths, leases and netns file
        (idempotent; also cleans rows left by a crash). The NAT batch runs while the
        rest is undone; veths are deleted in the background (see _drop_endpoint)."""
        with self._lock:
            pending = self._unpublish(container_id)
            for ep in self.store.endpoints(container_id):
                self._drop_endpoint(ep, background=True)
            # only its own netns file: a container:<other> sandbox records the other's
            own = os.path.join(self.netns_dir, container_id)
            if os.path.lexists(own):
                netns.remove(own)
            self._unpublished(container_id, pending)
            self._delete_sandbox_row(container_id)
        if pending.proc is not None:
            self._prepare_next()

    def rename_container(self, container_id: str, new_name: str) -> None:
        """The container was renamed: the embedded DNS answers to the new name."""
        with self._lock:
            with self.store.meta.tx() as db:
                db.execute("UPDATE net_sandboxes SET name = ? WHERE container_id = ?",
                           (new_name.lstrip("/"), container_id))
            for ep in self.store.endpoints(container_id):
                self._refresh_dns(ep["network_id"])

    def forget_container(self, container_id: str) -> None:
        """The container is removed: tear down and drop its ``network connect`` records."""
        self.teardown_container(container_id)
        with self.store.meta.tx() as db:
            db.execute("DELETE FROM net_attachments WHERE container_id = ?", (container_id,))

    # -- settings --------------------------------------------------------------
    def settings(self, container_id: str, exposed_ports: dict | None = None) -> dict:
        """docker's NetworkSettings for a container set up here (plus hosts/DNS keys)."""
        sb = self.store.sandbox(container_id) or {}
        mode = sb.get("mode", "none")
        out = {"Bridge": "", "SandboxID": container_id, "SandboxKey": sb.get("netns") or "",
               "HairpinMode": False, "LinkLocalIPv6Address": "", "LinkLocalIPv6PrefixLen": 0,
               "SecondaryIPAddresses": None, "SecondaryIPv6Addresses": None,
               "Ports": ports_settings(self.store.ports(container_id), exposed_ports),
               "EndpointID": "", "Gateway": "", "GlobalIPv6Address": "", "GlobalIPv6PrefixLen": 0,
               "IPAddress": "", "IPPrefixLen": 0, "IPv6Gateway": "", "MacAddress": "",
               "Networks": {}}
        if mode in BUILTIN_MODES:
            out["Networks"][mode] = empty_endpoint(self._network(mode))
        eps = self.store.endpoints(container_id)
        for ep in eps:
            net = self._network(ep["network_id"])
            names = self._dns_names_of(net, sb, ep)
            out["Networks"][net["name"]] = endpoint_settings(net, ep, names)
            if net["name"] == "bridge":
                entry = out["Networks"]["bridge"]
                out.update({k: entry[k] for k in ("EndpointID", "Gateway", "IPAddress",
                                                  "IPPrefixLen", "MacAddress")})
        out.update(self._resolv(sb, eps))
        return out

    def _resolv(self, sb: dict, eps: list[dict]) -> dict:
        primary = self._network(eps[0]["network_id"]) if eps else None
        embedded = primary["gateway"] if primary and not primary.get("builtin") else None
        ip = eps[0]["ip"] if eps else None
        own = self.store.meta.query_one("SELECT servers FROM net_dns WHERE container_id = ?",
                                        (sb.get("container_id", ""),))
        return hostfiles.container_files(sb.get("hostname", ""), sb.get("name", ""), ip,
                                         embedded, sb.get("mode") == "host",
                                         json.loads(own[0]) if own else None)

    # -- daemon start / stop -------------------------------------------------------
    def recover(self) -> None:
        """Daemon start: keep running containers' networking, remove the rest, restore
        rules, port reservations, bridges and DNS."""
        running = self._running_ids()
        with self._lock:
            for sb in self.store.sandboxes():
                gone = running is not None and sb["container_id"] not in running
                lost = sb["netns"] and not netns.is_netns(sb["netns"])
                if gone or (lost and not sb["mode"].startswith("container:")):
                    log.info("network: removing leftovers of container %s", sb["container_id"])
                    self.teardown_container(sb["container_id"])
            self._remove_stray_netns()
            self._remove_orphan_rows()
            self._refresh_ext_dns()
            try:
                self._realize(self._network("bridge"))
                for net in self.networks_in_use():
                    self._realize(net)
                self.rebuild_rules()
            except (DockyardError, OSError) as e:
                # dockyardd still starts (images, builds, --network none/host work); the
                # error comes back to whoever starts a container on a bridge
                log.error("network: cannot restore bridges and NAT rules: %s", e)
                return
            for row in self.store.ports():
                try:
                    self.ports.take(row["proto"], row["host_ip"], row["host_port"])
                except Exception as e:  # a host program took it meanwhile: keep the NAT rule
                    log.warning("network: cannot reserve %s:%s again: %s",
                                row["host_ip"], row["host_port"], e)
        self._prepare_next()

    restore = recover

    def _running_ids(self) -> set[str] | None:
        containers = getattr(self.engine, "containers", None)
        info = getattr(containers, "running_network_info", None)
        if info is None:
            return None  # unknown: keep everything whose netns still exists
        ids = set()
        for item in info():
            ids.add(item if isinstance(item, str) else (item.get("Id") or item.get("id")))
        return ids

    def _remove_stray_netns(self) -> None:
        known = {sb["container_id"] for sb in self.store.sandboxes()}
        for entry in os.listdir(self.netns_dir) if os.path.isdir(self.netns_dir) else []:
            if entry not in known:
                netns.remove(os.path.join(self.netns_dir, entry))

    def _remove_orphan_rows(self) -> None:
        known = {sb["container_id"] for sb in self.store.sandboxes()}
        for ep in self.store.endpoints():
            if ep["container_id"] not in known:
                self._drop_endpoint(ep)
        for row in self.store.ports():
            if row["container_id"] not in known:
                self._delete_port_rows(row["container_id"])

    def close(self) -> None:
        """Daemon stop: release reservations and DNS; when no container is attached,
        remove dockyard's bridges and iptables chains too."""
        self._closing = True
        with self._spare_lock:
            if self._refill_timer is not None:
                self._refill_timer.cancel()
                self._refill_timer = None
        self._janitor.shutdown(wait=True)
        self._closing = False
        portmap.drop_standby()
        self._drop_spare()
        self._janitor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="net-janitor")
        if self._janitor_links is not None:
            self._janitor_links.close()
            self._janitor_links = None
        with self._lock:
            if self._dns is not None:
                self._dns.close()
                self._dns = None
            self.ports.close()
            if self._links is not None and not self.store.sandboxes():
                for net in self.store.networks():
                    if net["driver"] == "bridge":
                        self.links.delete(net["bridge"])
                portmap.remove_chains(self.cfg.chain)
                self._ready.clear()
                self._chains_ready = False
            if self._links is not None:
                self._links.close()
                self._links = None
