"""Networks as objects: builtin records, create/inspect/list/remove/prune, connect,
bridges and chains made real, and the name table the embedded DNS answers from.

Mixed into NetworkService (shares its store, config, lock and helpers).
"""
from __future__ import annotations

import contextlib
import datetime
import ipaddress
import logging
import os
import sqlite3

from dockyard.errors import Conflict, InvalidArgument, NotFound
from dockyard.network import ipam, portmap, views
from dockyard.network.config import host_subnets

log = logging.getLogger("dockyard.network")
BUILTIN = {"bridge": "bridge", "host": "host", "none": "null"}
RESERVED_NAMES = set(BUILTIN) | {"default"}


def _now() -> str:
    return datetime.datetime.now(datetime.timezone.utc).isoformat().replace("+00:00", "Z")


class AdminMixin:
    """Network records and the kernel objects behind them."""

    # -- records ------------------------------------------------------------
    def ensure_builtin(self) -> None:
        """Create the records of the builtin networks bridge, host and none once."""
        for name, driver in BUILTIN.items():
            if self.store.network(name):
                continue
            rec = {"id": os.urandom(32).hex(), "name": name, "driver": driver, "builtin": 1,
                   "created": _now()}
            if name == "bridge":
                subnet = self._default_bridge_subnet()
                rec.update(bridge=self.cfg.bridge, subnet=str(subnet),
                           gateway=str(subnet.network_address + 1), options={
                               "com.docker.network.bridge.default_bridge": "true",
                               "com.docker.network.bridge.name": self.cfg.bridge,
                               "com.docker.network.bridge.enable_ip_masquerade": "true"})
            with contextlib.suppress(sqlite3.IntegrityError):  # another thread was first
                self.store.add_network(rec)

    def _default_bridge_subnet(self) -> ipaddress.IPv4Network:
        if self.cfg.bridge_subnet:
            return ipam.parse_subnet(self.cfg.bridge_subnet, "bridge subnet")
        return ipam.pick_subnet(self.cfg.bridge_pools, self._taken_subnets())

    def _taken_subnets(self) -> list[ipaddress.IPv4Network]:
        ours = {n["bridge"] for n in self.store.networks() if n.get("bridge")}
        taken = [net for iface, net in host_subnets() if iface not in ours]
        return taken + [ipaddress.ip_network(n["subnet"]) for n in self.store.networks()
                        if n.get("subnet")]

    def _network(self, ref: str) -> dict:
        net = self.store.network("bridge" if ref == "default" else ref)
        if net is None:
            raise NotFound(f"network {ref} not found")
        return net

    def create_network(self, name: str, driver: str = "bridge", subnet: str | None = None,
                       gateway: str | None = None, internal: bool = False,
                       labels: dict | None = None, options: dict | None = None,
                       attachable: bool = False, ip_range: str | None = None,
                       aux_addresses: dict | None = None) -> str:
        """Create a user-defined bridge network; returns its id.

        Raises: InvalidArgument (name, driver, subnet, gateway), Conflict (name taken,
        subnet overlapping another network or a host route)."""
        if not name or "/" in name or name.strip() != name:
            raise InvalidArgument(f"invalid network name {name!r}")
        if name in RESERVED_NAMES:
            raise InvalidArgument(f"network name {name} is reserved for a pre-defined network")
        if (driver or "bridge") != "bridge":
            raise InvalidArgument(f"invalid driver {driver!r}: only the bridge driver is supported")
        if gateway and not subnet:
            raise InvalidArgument("invalid gateway: a gateway needs --subnet")
        if (ip_range or aux_addresses) and not subnet:
            raise InvalidArgument("invalid ip-range/aux-address: they need --subnet")
        with self._lock:
            if self.store.by_name(name):
                raise Conflict(f"network with name {name} already exists")
            net = self._choose_subnet(subnet)
            extra = {}
            if ip_range:
                extra["ip_range"] = str(ipam.check_ip_range(net, ip_range))
            if aux_addresses:
                extra["aux"] = ipam.check_aux_addresses(net, aux_addresses)
            gw = ipam.gateway_for(net, gateway)
            if str(gw) in (extra.get("aux") or {}).values():
                raise InvalidArgument(f"invalid aux-address: {gw} is the gateway")
            rec = {"id": os.urandom(32).hex(), "name": name, "driver": "bridge",
                   "subnet": str(net), "gateway": str(gw),
                   "internal": int(bool(internal)), "attachable": int(bool(attachable)),
                   "created": _now(), "labels": labels or {}, "options": options or {},
                   "ipam": extra}
            rec["bridge"] = self._bridge_name(options or {}, rec["id"])
            self.store.add_network(rec)
            try:
                self._realize(self.store.network(rec["id"]))
                self.rebuild_rules()
            except BaseException:
                self._unrealize(self.store.network(rec["id"]))
                self.store.delete_network(rec["id"])
                raise
        return rec["id"]

    def _bridge_name(self, options: dict, network_id: str) -> str:
        """The user's ``com.docker.network.bridge.name`` (checked: never an existing
        interface, e.g. eth0) or dockyard's own name."""
        name = options.get("com.docker.network.bridge.name")
        if not name:
            return self.cfg.user_bridge(network_id)
        if len(name) > 15 or not all(c.isalnum() or c in "-_." for c in name):
            raise InvalidArgument(f"invalid bridge name {name!r}: up to 15 letters, digits, -_.")
        if os.path.exists(f"/sys/class/net/{name}") or any(
                n.get("bridge") == name for n in self.store.networks()):
            raise Conflict(f"bridge name {name} is already in use")
        return name

    def _choose_subnet(self, subnet: str | None) -> ipaddress.IPv4Network:
        existing = [(n["name"], ipaddress.ip_network(n["subnet"]))
                    for n in self.store.networks() if n.get("subnet")]
        if subnet:
            net = ipam.parse_subnet(subnet)
            ipam.check_overlap(net, existing)
            ours = {n["bridge"] for n in self.store.networks() if n.get("bridge")}
            ipam.check_overlap(net, [(f"host route on {i}", r) for i, r in host_subnets()
                                     if i not in ours])
            return net
        return ipam.pick_subnet(self.cfg.user_pools, self._taken_subnets())

    def remove_network(self, ref: str) -> None:
        """Remove a user network (Conflict while containers are attached)."""
        with self._lock:
            net = self._network(ref)
            if net.get("builtin"):
                raise InvalidArgument(f"{net['name']} is a pre-defined network and cannot be removed")
            if self.store.endpoints(network_id=net["id"]):
                raise Conflict(f"error while removing network: network {net['name']} id "
                               f"{net['id']} has active endpoints")
            self._unrealize(net)
            self.store.delete_network(net["id"])
            self.rebuild_rules()

    def prune_networks(self, keep=lambda net: False) -> list[str]:
        """Remove unused user networks (not ``keep(net)``); returns their names."""
        removed = []
        for net in self.store.networks():
            if net.get("builtin") or keep(net) or self.store.endpoints(network_id=net["id"]):
                continue
            with contextlib.suppress(Conflict, NotFound):
                self.remove_network(net["id"])
                removed.append(net["name"])
        return removed

    def list_networks(self, filters: dict | None = None) -> list[dict]:
        """docker's network list (filters as in ``GET /networks?filters=``)."""
        used = {ep["network_id"] for ep in self.store.endpoints()}
        return [views.network_view(n, {}) for n in self.store.networks()
                if views.matches(n, filters or {}, n["id"] in used)]

    def inspect_network(self, ref: str) -> dict:
        """docker's network inspect, with the attached containers."""
        net = self._network(ref)
        containers = {}
        for ep in self.store.endpoints(network_id=net["id"]):
            sb = self.store.sandbox(ep["container_id"]) or {}
            containers[ep["container_id"]] = views.container_entry(net, ep, sb.get("name", ""))
        return views.network_view(net, containers)

    def networks_in_use(self) -> list[dict]:
        ids = {ep["network_id"] for ep in self.store.endpoints()}
        return [n for n in self.store.networks() if n["id"] in ids]

    # -- kernel objects ------------------------------------------------------------
    def _realize(self, net: dict) -> None:
        """Make a bridge network real: bridge up with its gateway, chains, DNS (idempotent)."""
        if net["id"] in self._ready or net["driver"] != "bridge":
            return
        plen = ipaddress.ip_network(net["subnet"]).prefixlen
        self.links.ensure_bridge(net["bridge"], net["gateway"], plen, self.mtu)
        _enable_forwarding()
        self._ensure_chains()
        if not net.get("builtin"):
            try:
                self.dns.serve(net["id"], net["gateway"])
            except OSError as e:  # e.g. a host DNS server bound to 0.0.0.0:53
                log.error("network %s: no embedded DNS on %s:53: %s", net["name"],
                          net["gateway"], e)
            self._refresh_dns(net["id"])
        self._ready.add(net["id"])

    def _unrealize(self, net: dict | None) -> None:
        if not net:
            return
        if self._dns is not None:
            self._dns.stop_serving(net["id"])
        self.links.delete(net["bridge"])
        self._ready.discard(net["id"])

    def _ensure_chains(self) -> None:
        if not self._chains_ready:
            self.rebuild_rules()

    def rebuild_rules(self) -> None:
        """Rewrite dockyard's iptables chains from the database (one batch)."""
        from dockyard.network.sandbox import _mapping
        nets = [portmap.BridgeNet(n["bridge"], n["subnet"], bool(n["internal"]))
                for n in self.store.networks() if n["driver"] == "bridge"]
        maps = [_mapping(r) for r in self.store.ports()]
        jumps = portmap.present_jumps(self.cfg.chain, portmap.save())
        portmap.run_restore(portmap.base_batch(self.cfg.chain, nets, maps, jumps))
        self._chains_ready = True

    # -- names for the embedded DNS -----------------------------------------------
    def _dns_names_of(self, net: dict, sb: dict, ep: dict) -> list[str] | None:
        if net.get("builtin"):
            return None  # the default bridge has no name resolution, as in docker
        names = [sb.get("name") or "", *ep["aliases"], ep["container_id"][:12]]
        return [n for n in dict.fromkeys(names) if n]

    def _refresh_dns(self, network_id: str) -> None:
        net = self.store.network(network_id)
        if not net or net.get("builtin"):
            return
        table: dict[str, list[str]] = {}
        for ep in self.store.endpoints(network_id=network_id):
            sb = self.store.sandbox(ep["container_id"]) or {}
            for name in self._dns_names_of(net, sb, ep) or []:
                table.setdefault(name.lower(), []).append(ep["ip"])
        self._dns_names[network_id] = table

    def _lookup(self, network_id: str, name: str) -> list[str]:
        return self._dns_names.get(network_id, {}).get(name, [])


def _enable_forwarding() -> None:
    """Published ports reached from other hosts and outbound NAT need IPv4 forwarding."""
    try:
        with open("/proc/sys/net/ipv4/ip_forward", "r+") as f:
            if f.read().strip() != "1":
                f.seek(0)
                f.write("1")
    except OSError:
        pass
