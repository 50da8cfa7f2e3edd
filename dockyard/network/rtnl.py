"""The rtnetlink requests of a container start, packed by hand: the veth pair and the
container side of it.

Why not pyroute2 here: each pyroute2 request costs ~1 ms (an asyncio round per
message) and opening its socket another ~1 ms; a container start needs five
requests. The container side is sent in one ``sendmsg`` batch on a plain netlink
socket opened inside the container's netns (by a thread that joined it); the veth
(host end enslaved and up, peer born in the netns) is one request from the host
namespace. Everything else (bridges, lookups, deletions) uses pyroute2.

Messages (linux/rtnetlink.h, linux/if_link.h, linux/veth.h): RTM_NEWLINK (a veth, or
IFF_UP on a link), RTM_NEWADDR, RTM_NEWROUTE.
"""
from __future__ import annotations

import os
import socket
import struct

NETLINK_ROUTE = 0
RTM_NEWLINK, RTM_NEWADDR, RTM_NEWROUTE = 16, 20, 24
NLM_F_REQUEST, NLM_F_ACK, NLM_F_EXCL, NLM_F_CREATE = 1, 4, 0x200, 0x400
NLMSG_ERROR = 2
IFF_UP = 1
IFA_ADDRESS, IFA_LOCAL, IFA_BROADCAST = 1, 2, 4
RTA_GATEWAY = 5
IFLA_ADDRESS, IFLA_IFNAME, IFLA_MTU, IFLA_MASTER, IFLA_LINKINFO, IFLA_NET_NS_FD = 1, 3, 4, 10, 18, 28
IFLA_INFO_KIND, IFLA_INFO_DATA, VETH_INFO_PEER = 1, 2, 1
RT_TABLE_MAIN, RTPROT_STATIC, RT_SCOPE_UNIVERSE, RTN_UNICAST = 254, 4, 0, 1


def _attr(kind: int, payload: bytes) -> bytes:
    size = 4 + len(payload)
    return struct.pack("=HH", size, kind) + payload + b"\0" * ((4 - size % 4) % 4)


def _message(kind: int, flags: int, seq: int, body: bytes) -> bytes:
    return struct.pack("=LHHLL", 16 + len(body), kind, NLM_F_REQUEST | NLM_F_ACK | flags,
                       seq, 0) + body


def _ifinfo(index: int = 0, flags: int = 0, change: int = 0) -> bytes:
    return struct.pack("=BxHiII", socket.AF_UNSPEC, 0, index, flags, change)


def _mac(address: str) -> bytes:
    return bytes(int(part, 16) for part in address.split(":"))


def veth_add(name: str, master: int, mtu: int, peer_name: str, peer_mac: str,
             peer_netns_fd: int) -> tuple[int, int, bytes]:
    """(type, flags, body) creating veth ``name`` (enslaved to ``master``, up) whose
    peer ``peer_name`` (MAC ``peer_mac``) is born in the netns ``peer_netns_fd``."""
    peer = _ifinfo() + _attr(IFLA_IFNAME, peer_name.encode() + b"\0") + \
        _attr(IFLA_ADDRESS, _mac(peer_mac)) + _attr(IFLA_MTU, struct.pack("=I", mtu)) + \
        _attr(IFLA_NET_NS_FD, struct.pack("=I", peer_netns_fd))
    info = _attr(IFLA_INFO_KIND, b"veth\0") + _attr(IFLA_INFO_DATA, _attr(VETH_INFO_PEER, peer))
    body = _ifinfo(0, IFF_UP, IFF_UP) + _attr(IFLA_IFNAME, name.encode() + b"\0") + \
        _attr(IFLA_MTU, struct.pack("=I", mtu)) + _attr(IFLA_MASTER, struct.pack("=I", master)) + \
        _attr(IFLA_LINKINFO, info)
    return RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, body


def link_up(index: int) -> tuple[int, int, bytes]:
    """(type, flags, body) bringing link ``index`` up."""
    return RTM_NEWLINK, 0, _ifinfo(index, IFF_UP, IFF_UP)


def addr_add(index: int, address: str, prefixlen: int) -> tuple[int, int, bytes]:
    """(type, flags, body) adding ``address/prefixlen`` (with its broadcast) to ``index``."""
    raw = socket.inet_aton(address)
    host_bits = (1 << (32 - prefixlen)) - 1
    bcast = struct.pack("!I", struct.unpack("!I", raw)[0] | host_bits)
    body = struct.pack("=BBBBI", socket.AF_INET, prefixlen, 0, RT_SCOPE_UNIVERSE, index)
    body += _attr(IFA_LOCAL, raw) + _attr(IFA_ADDRESS, raw) + _attr(IFA_BROADCAST, bcast)
    return RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL, body


def default_route(gateway: str) -> tuple[int, int, bytes]:
    """(type, flags, body) adding the default route via ``gateway``."""
    body = struct.pack("=BBBBBBBBI", socket.AF_INET, 0, 0, 0, RT_TABLE_MAIN, RTPROT_STATIC,
                       RT_SCOPE_UNIVERSE, RTN_UNICAST, 0)
    return RTM_NEWROUTE, NLM_F_CREATE | NLM_F_EXCL, body + _attr(RTA_GATEWAY,
                                                                 socket.inet_aton(gateway))


def apply(requests: list[tuple[str, tuple[int, int, bytes]]]) -> None:
    """Send ``(what, request)`` pairs in one batch on a netlink socket of the calling
    thread's netns; raise OSError naming the first request the kernel refused."""
    with socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_ROUTE) as sock:
        sock.bind((0, 0))
        batch = b"".join(_message(kind, flags, seq, body)
                         for seq, (_, (kind, flags, body)) in enumerate(requests, 1))
        sock.sendall(batch)
        pending = set(range(1, len(requests) + 1))
        while pending:
            data = sock.recv(65536)
            for seq, err in _acks(data):
                pending.discard(seq)
                if err:
                    raise OSError(-err, f"netlink {requests[seq - 1][0]}: {os.strerror(-err)}")


def _acks(data: bytes):
    """(sequence number, error) of each NLMSG_ERROR (ack) in a received buffer."""
    pos = 0
    while pos + 16 <= len(data):
        size, kind, _flags, seq, _pid = struct.unpack_from("=LHHLL", data, pos)
        if kind == NLMSG_ERROR:
            yield seq, struct.unpack_from("=i", data, pos + 16)[0]
        pos += (size + 3) & ~3
