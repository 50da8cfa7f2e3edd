"""Four rtnetlink requests, packed by hand, for the container side of a veth.

Why not pyroute2 here: each pyroute2 request costs ~1 ms (an asyncio round per
message) and opening its socket another ~1 ms; the container side needs five
requests per container start. These are sent in one ``sendmsg`` batch on a plain
netlink socket opened inside the container's netns (by a thread that joined it)
and cost well under a millisecond together. Everything else uses pyroute2.

Messages (linux/rtnetlink.h): RTM_NEWLINK to set IFF_UP, RTM_NEWADDR, RTM_NEWROUTE.
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
RT_TABLE_MAIN, RTPROT_STATIC, RT_SCOPE_UNIVERSE, RTN_UNICAST = 254, 4, 0, 1


def _attr(kind: int, payload: bytes) -> bytes:
    size = 4 + len(payload)
    return struct.pack("=HH", size, kind) + payload + b"\0" * ((4 - size % 4) % 4)


def _message(kind: int, flags: int, seq: int, body: bytes) -> bytes:
    return struct.pack("=LHHLL", 16 + len(body), kind, NLM_F_REQUEST | NLM_F_ACK | flags,
                       seq, 0) + body


def link_up(index: int) -> tuple[int, int, bytes]:
    """(type, flags, body) bringing link ``index`` up."""
    return RTM_NEWLINK, 0, struct.pack("=BxHiII", socket.AF_UNSPEC, 0, index, IFF_UP, IFF_UP)


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
