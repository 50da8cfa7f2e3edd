"""A container's networking: endpoints (veth + address) on bridge networks, published ports.

``setup_container`` is an ordered checklist, each step registering its undo on an
ExitStack so a failure (a taken port, an address conflict) leaves nothing behind:

    sandbox row → per network: address lease (row) → bridge ready → veth with its
    peer born in the netns → address, link up, default route inside the netns
    → port reservations → port rows → one iptables-restore batch of DNAT rules

``teardown_container`` walks it back in reverse and is idempotent.
"""
from __future__ import annotations

import contextlib
import ipaddress
import json
import os

from dockyard.errors import Conflict, InvalidArgument, NotFound
from dockyard.network import ipam, portmap, portspec

BUILTIN_MODES = ("host", "none")

def normalize_mode(mode: str | None) -> str:
    return "bridge" if mode in (None, "", "default") else mode


def check_aliases(cfg: dict, where: str) -> list[str]:
    aliases = [a for a in (cfg.get("Aliases") or []) if a]
    dup = {a for a in aliases if aliases.count(a) > 1}
    if dup:
        raise InvalidArgument(f"duplicate alias {sorted(dup)[0]!r} for network {where}")
    return aliases


class SandboxMixin:
    """setup/teardown of container networking (mixed into NetworkService)."""

    # -- endpoints ---------------------------------------------------------
    def _networks_for(self, mode: str, endpoints: dict, container_id: str) -> list[tuple[dict, dict]]:
        """(network record, endpoint config) for the primary network then the others."""
        primary = self._network(mode)
        if primary["driver"] != "bridge":
            raise InvalidArgument(f"network {mode} cannot be used as a container's network here")
        cfgs = {k: v or {} for k, v in (endpoints or {}).items()}
        first = cfgs.pop(mode, None) or cfgs.pop(primary["name"], None) or cfgs.pop("default", None)
        out = [(primary, first or {})]
        extra = dict(self.store.attachments(container_id))
        for ref, cfg in cfgs.items():
            extra[self._network(ref)["id"]] = cfg
        for net_id, cfg in extra.items():
            net = self._network(net_id)
            if net["id"] != primary["id"] and net["driver"] == "bridge":
                out.append((net, cfg))
        return out

    def _allocate(self, net: dict, cid: str, cfg: dict, ifname: str, aliases: list[str]) -> dict:
        """Lease an address and record the endpoint (one transaction)."""
        subnet = ipaddress.ip_network(net["subnet"])
        gateway = ipaddress.ip_address(net["gateway"])
        requested = ((cfg.get("IPAMConfig") or {}).get("IPv4Address") or "").strip()
        if requested and net.get("builtin"):
            raise InvalidArgument("invalid ip: user specified IP address is supported only on "
                                  "user defined networks")
        extra = net.get("ipam") or {}
        reserved = {ipaddress.ip_address(a) for a in (extra.get("aux") or {}).values()}
        pool = ipaddress.ip_network(extra["ip_range"]) if extra.get("ip_range") else None
        with self.store.meta.tx() as db:
            used = {ipaddress.ip_address(r[0]) for r in db.execute(
                "SELECT ip FROM net_endpoints WHERE network_id = ?", (net["id"],))}
            if requested:
                addr = ipam.check_requested(subnet, gateway, used, requested)
                if addr in reserved:
                    raise InvalidArgument(f"invalid ip {requested}: an aux-address of the "
                                          "network")
            else:
                last = db.execute("SELECT last_ip FROM net_networks WHERE id = ?",
                                  (net["id"],)).fetchone()[0]
                addr = ipam.next_address(subnet, gateway, used | reserved,
                                         ipaddress.ip_address(last) if last else None, pool)
                db.execute("UPDATE net_networks SET last_ip = ? WHERE id = ?", (str(addr), net["id"]))
            ep = {"container_id": cid, "network_id": net["id"], "endpoint_id": os.urandom(32).hex(),
                  "ifname": ifname, "host_veth": "dyv" + os.urandom(4).hex(), "ip": str(addr),
                  "mac": ipam.mac_for(addr), "aliases": json.dumps(aliases),
                  "ipam_ip": requested or None}
            db.execute(f"INSERT INTO net_endpoints ({', '.join(ep)}) VALUES "
                       f"({', '.join('?' * len(ep))})", tuple(ep.values()))
        return dict(ep, aliases=aliases)

    def _lease(self, stack: contextlib.ExitStack, net: dict, cid: str, cfg: dict,
               ifname: str) -> dict:
        """Bridge ready, address leased and endpoint recorded; undo on ``stack``."""
        self._realize(net)
        ep = self._allocate(net, cid, cfg, ifname, check_aliases(cfg, net["name"]))
        stack.callback(self._drop_endpoint, ep)
        return ep

    def _plumb(self, net: dict, ep: dict, netns_path: str, primary: bool) -> None:
        """The veth (peer born in the netns) and its in-namespace configuration."""
        from dockyard.network import bridge
        self.links.add_veth(ep["host_veth"], net["bridge"], netns_path,
                            {"ifname": ep["ifname"], "address": ep["mac"]}, self.mtu)
        _hairpin(ep["host_veth"])
        plen = ipaddress.ip_network(net["subnet"]).prefixlen
        bridge.configure_container(netns_path, ep["ifname"], ep["ip"], plen,
                                   net["gateway"] if primary else None)
        self._refresh_dns(net["id"])

    def _attach(self, stack: contextlib.ExitStack, net: dict, cid: str, netns_path: str,
                cfg: dict, ifname: str, primary: bool) -> dict:
        ep = self._lease(stack, net, cid, cfg, ifname)
        self._plumb(net, ep, netns_path, primary)
        return ep

    def _drop_endpoint(self, ep: dict, background: bool = False) -> None:
        """Delete the veth (its peer in the netns goes with it) and the lease. Deleting a
        veth waits ~30 ms for the kernel (RCU); ``background`` lets the caller go on, which
        is safe because the name is never reused and the lease row goes now."""
        if background:
            self._janitor.submit(self._janitor_delete, ep["host_veth"])
        else:
            self.links.delete(ep["host_veth"])
        with self.store.meta.tx() as db:
            db.execute("DELETE FROM net_endpoints WHERE container_id = ? AND network_id = ?",
                       (ep["container_id"], ep["network_id"]))
        self._refresh_dns(ep["network_id"])

    # -- ports ---------------------------------------------------------------
    def _publish(self, stack: contextlib.ExitStack, cid: str, container_ip: str,
                 wanted: list[portspec.Binding]) -> portmap.Pending:
        """Reserve host ports, record them and *start* the one iptables-restore batch;
        the caller plumbs veths meanwhile and then waits on the returned Pending."""
        maps = []
        for b in wanted:
            port = self.ports.reserve(b)
            stack.callback(self.ports.release, b.proto, b.host_ip, port)
            maps.append(portmap.Mapping(cid, b.proto, b.host_ip, port, container_ip,
                                        b.container_port))
        if not maps:
            return portmap.Pending(None)
        with self.store.meta.tx() as db:
            for m in maps:
                db.execute("INSERT INTO net_ports VALUES (?, ?, ?, ?, ?, ?)",
                           (cid, m.proto, m.host_ip, m.host_port, m.container_ip, m.container_port))
        stack.callback(self._delete_port_rows, cid)
        self._ensure_chains()
        pending = portmap.start_restore(portmap.mapping_batch(self.cfg.chain, maps))
        stack.callback(pending.undo, portmap.mapping_batch(self.cfg.chain, maps, "-D"))
        return pending

    def _delete_port_rows(self, cid: str) -> None:
        with self.store.meta.tx() as db:
            db.execute("DELETE FROM net_ports WHERE container_id = ?", (cid,))

    def _unpublish(self, cid: str) -> portmap.Pending:
        """Start removing a container's DNAT rules; finish with :meth:`_unpublished`."""
        maps = [_mapping(r) for r in self.store.ports(cid)]
        if not maps:
            return portmap.Pending(None)
        pending = portmap.start_restore(portmap.mapping_batch(self.cfg.chain, maps, "-D"))
        pending.maps = maps
        return pending

    def _unpublished(self, cid: str, pending: portmap.Pending) -> None:
        """Wait for the rules to go, then free the host ports (never before: a new
        container's rule on the same port would sit behind the old one)."""
        try:
            pending.wait()
        except OSError:
            self._delete_port_rows(cid)  # a rule was missing: rebuild the exact set instead
            self.rebuild_rules()
        maps = getattr(pending, "maps", [])
        udp = [m.host_port for m in maps if m.proto == "udp"]
        if udp:
            from dockyard.network.bridge import forget_udp_flows
            forget_udp_flows(udp)
        for m in maps:
            self.ports.release(m.proto, m.host_ip, m.host_port)
        self._delete_port_rows(cid)

def _mapping(row: dict) -> portmap.Mapping:
    return portmap.Mapping(row["container_id"], row["proto"], row["host_ip"], row["host_port"],
                           row["container_ip"], row["container_port"])


def _hairpin(host_veth: str) -> None:
    """Let a container reach its own published port through the host (packet goes back
    out of the port it came in)."""
    try:
        with open(f"/sys/class/net/{host_veth}/brport/hairpin_mode", "w") as f:
            f.write("1")
    except OSError:
        pass


class ConnectMixin:
    """``network connect`` / ``disconnect`` (mixed into NetworkService)."""

    def connect(self, ref: str, container: str, endpoint_config: dict | None = None) -> None:
        """Attach a container to a network: live when it runs, else at its next start.

        Raises: NotFound, Conflict (already connected, shared netns), InvalidArgument."""
        cfg = endpoint_config or {}
        with self._lock:
            net = self._network(ref)
            if net["driver"] != "bridge":
                raise InvalidArgument(f"container cannot be connected to network {net['name']}")
            cid = self._container_id(container)
            check_aliases(cfg, net["name"])
            sb = self.store.sandbox(cid)
            if sb and (sb["mode"] in BUILTIN_MODES or sb["mode"].startswith("container:")):
                raise Conflict("container sharing network namespace with another container or "
                               "host cannot be connected to any other network")
            attached = {ep["network_id"]: ep for ep in self.store.endpoints(cid)}
            if net["id"] in attached or net["id"] in self.store.attachments(cid):
                raise Conflict(f"endpoint with name {container} already exists in network "
                               f"{net['name']}")
            if sb:
                with contextlib.ExitStack() as stack:
                    used = {ep["ifname"] for ep in attached.values()}
                    ifname = next(f"eth{i}" for i in range(64) if f"eth{i}" not in used)
                    self._attach(stack, net, cid, sb["netns"], cfg, ifname, False)
                    stack.pop_all()
            with self.store.meta.tx() as db:
                db.execute("INSERT OR REPLACE INTO net_attachments VALUES (?, ?, ?)",
                           (cid, net["id"], json.dumps(cfg)))

    def disconnect(self, ref: str, container: str, force: bool = False) -> None:
        """Detach a container from a network (live and for later starts)."""
        with self._lock:
            net = self._network(ref)
            cid = self._container_id(container)
            eps = [ep for ep in self.store.endpoints(cid) if ep["network_id"] == net["id"]]
            if not eps and net["id"] not in self.store.attachments(cid) and not force:
                raise InvalidArgument(f"container {container} is not connected to network "
                                      f"{net['name']}")
            for ep in eps:
                if any(r["container_ip"] == ep["ip"] for r in self.store.ports(cid)):
                    # its published ports pointed at this address
                    self._unpublished(cid, self._unpublish(cid))
                self._drop_endpoint(ep)
            with self.store.meta.tx() as db:
                db.execute("DELETE FROM net_attachments WHERE container_id = ? AND network_id = ?",
                           (cid, net["id"]))

    def _container_id(self, ref: str) -> str:
        """Full id of a container given its id, id prefix or name."""
        for sb in self.store.sandboxes():
            if ref in (sb["container_id"], sb["name"]) or sb["container_id"].startswith(ref):
                return sb["container_id"]
        try:
            containers = self.engine.containers
        except (AttributeError, ImportError):
            containers = None
        for attr in ("resolve_id", "resolve", "get"):
            fn = getattr(containers, attr, None)
            if fn is not None:
                rec = fn(ref)
                found = rec if isinstance(rec, str) else (
                    rec.get("Id") or rec.get("id") if isinstance(rec, dict) else getattr(rec, "id", None))
                if found:
                    return found
        raise NotFound(f"No such container: {ref}")
