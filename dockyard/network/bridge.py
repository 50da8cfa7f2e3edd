"""Linux bridges and veth pairs over netlink (pyroute2).

The host side uses one long-lived ``IPRoute`` socket (guarded by a lock: request
threads share it) for bridges, lookups and deletions. A container's veth is one
hand-packed request (:func:`dockyard.network.rtnl.veth_add`) with its peer born directly
in the container's netns (``IFLA_NET_NS_FD``), already named ``eth0``/``eth1``… with its
MAC and MTU, so nothing is moved or renamed afterwards. The container side is configured
over a netlink socket opened by a thread that has ``setns()``'d into the netns
(:func:`dockyard.network.netns.run_in`): no process is forked. The whole attach
costs a few milliseconds.
"""
from __future__ import annotations

import os
import socket
import threading

import logging

from pyroute2 import IPRoute
from pyroute2.netlink.exceptions import NetlinkError

from dockyard.network import netns, rtnl

ENOENT, EEXIST, ENODEV = 2, 17, 19
LOOPBACK_INDEX = 1  # the kernel gives loopback index 1 in every namespace
# pyroute2 logs every netlink message at DEBUG: far too much for dockyardd --debug
logging.getLogger("pyroute2").setLevel(logging.WARNING)


def _random_mac() -> str:
    raw = bytearray(os.urandom(6))
    raw[0] = (raw[0] & 0xFE) | 0x02  # unicast, locally administered
    return ":".join(f"{b:02x}" for b in raw)


def _sysctl(path: str, value: str) -> None:
    with open(path, "w") as f:
        f.write(value)


class Links:
    """Netlink operations in the host namespace (bridges, host ends of veths)."""

    def __init__(self) -> None:
        self._ipr = IPRoute()
        self._lock = threading.Lock()
        self._indexes: dict[str, int] = {}

    def close(self) -> None:
        self._ipr.close()

    def index(self, name: str) -> int | None:
        """Interface index of ``name`` or None."""
        with self._lock:
            found = self._ipr.link_lookup(ifname=name)
        return found[0] if found else None

    def names(self) -> list[str]:
        """Names of all interfaces in the host namespace."""
        with self._lock:
            return [link.get_attr("IFLA_IFNAME") for link in self._ipr.get_links()]

    def host_mtu(self) -> int:
        """MTU of the interface holding the default route (1500 when there is none)."""
        with self._lock:
            for route in self._ipr.get_default_routes(family=2):
                oif = route.get_attr("RTA_OIF")
                if oif:
                    return self._ipr.get_links(oif)[0].get_attr("IFLA_MTU") or 1500
        return 1500

    def ensure_bridge(self, name: str, gateway: str, prefixlen: int, mtu: int) -> None:
        """Create bridge ``name`` with ``gateway/prefixlen`` and bring it up (idempotent)."""
        with self._lock:
            if not self._ipr.link_lookup(ifname=name):
                # A fixed MAC: otherwise the bridge takes its ports' lowest MAC, which
                # changes when a container leaves and strands the others' ARP entries
                # for the gateway for up to a minute.
                self._ipr.link("add", ifname=name, kind="bridge", mtu=mtu, address=_random_mac())
            index = self._ipr.link_lookup(ifname=name)[0]
            have = {a.get_attr("IFA_ADDRESS") for a in self._ipr.get_addr(index=index, family=2)}
            if gateway not in have:
                self._ipr.addr("add", index=index, address=gateway, prefixlen=prefixlen)
            self._ipr.link("set", index=index, state="up")
        # lets DNAT'd packets from 127.0.0.1 leave through the bridge (then masqueraded)
        _sysctl(f"/proc/sys/net/ipv4/conf/{name}/route_localnet", "1")

    def delete(self, name: str) -> bool:
        """Delete interface ``name``; False when it did not exist."""
        with self._lock:
            self._indexes.pop(name, None)
            try:
                self._ipr.link("del", ifname=name)
            except NetlinkError as e:
                if e.code in (ENOENT, ENODEV):
                    return False
                raise
        return True

    def add_veth(self, host_name: str, bridge: str, netns_path: str, peer: dict, mtu: int) -> None:
        """Create veth ``host_name``, already enslaved to ``bridge`` and up, in one netlink
        request; its peer (``peer`` = ifname/address) is born inside ``netns_path``.
        The request is packed by hand (:func:`rtnl.veth_add`): pyroute2's round trip cost
        more than the kernel's work."""
        fd = os.open(netns_path, os.O_RDONLY | os.O_CLOEXEC)
        try:
            for attempt in (0, 1):
                with self._lock:
                    master = self._indexes.get(bridge) if attempt == 0 else None
                    if master is None:
                        # bridges keep their index for life: one lookup (a dump) per bridge
                        master = self._indexes[bridge] = self._ipr.link_lookup(ifname=bridge)[0]
                try:
                    rtnl.apply([(f"add veth {host_name} on {bridge}",
                                 rtnl.veth_add(host_name, master, mtu, peer["ifname"],
                                               peer["address"], fd))])
                    return
                except OSError as e:
                    if e.errno != ENODEV or attempt:
                        raise  # ENODEV: the bridge was re-created, look it up again
        finally:
            os.close(fd)


def configure_container(netns_path: str, ifname: str | None, address: str | None,
                        prefixlen: int = 0, gateway: str | None = None) -> None:
    """Inside the netns: loopback up; then ``ifname`` gets ``address/prefixlen``, is
    brought up, and (when ``gateway`` is given) becomes the default route. One batch of
    hand-packed netlink requests (see :mod:`dockyard.network.rtnl` for why)."""

    def body() -> None:
        requests = [("set lo up", rtnl.link_up(LOOPBACK_INDEX))]
        if ifname:
            index = socket.if_nametoindex(ifname)  # resolved in this thread's netns
            requests += [(f"add {address}/{prefixlen} to {ifname}",
                          rtnl.addr_add(index, address, prefixlen)),
                         (f"set {ifname} up", rtnl.link_up(index))]
            if gateway:
                requests.append((f"default route via {gateway}", rtnl.default_route(gateway)))
        rtnl.apply(requests)

    netns.run_in(netns_path, body)


def remove_container_link(netns_path: str, ifname: str) -> None:
    """Delete ``ifname`` inside the netns (its host peer goes with it); missing is fine."""

    def body() -> None:
        with IPRoute() as ipr:
            try:
                ipr.link("del", ifname=ifname)
            except NetlinkError as e:
                if e.code not in (ENOENT, ENODEV):
                    raise

    netns.run_in(netns_path, body)


def forget_udp_flows(host_ports: list[int]) -> int:
    """Delete conntrack entries of UDP flows to the given host ports: UDP has no end,
    so a client that keeps its source port would stay NAT'd to a container that is
    gone (docker does the same). Returns how many entries went."""
    from pyroute2 import Conntrack
    from pyroute2.netlink.nfnetlink.nfctsocket import NFCTAttrTuple
    gone = 0
    with Conntrack() as ct:
        for port in host_ports:
            wanted = NFCTAttrTuple(proto=socket.IPPROTO_UDP, dport=port)
            for entry in list(ct.dump_entries(tuple_orig=wanted)):
                try:
                    ct.delete(entry)
                    gone += 1
                except NetlinkError:
                    pass  # expired meanwhile
    return gone
