"""Embedded DNS for user-defined networks: container names and aliases → addresses.

One UDP socket per user network, bound to the network's gateway address on port 53
(an address on the host's bridge that every container of the network reaches, and
its resolv.conf points to). All sockets are served by one thread with a selector.
A query for a name known on that network (container name, network alias, compose
service name, short id) is answered at once; AAAA for a known name gets an empty
answer (no IPv6 here); an unknown single label (a container that is not there) gets
NXDOMAIN at once; anything else is forwarded to the container's ``--dns`` servers or the host's and
the answer relayed, or SERVFAIL after ``FORWARD_TIMEOUT`` seconds; with no upstream
it is REFUSED at once. Only UDP is served.
"""
from __future__ import annotations

import ipaddress
import logging
import os
import selectors
import socket
import struct
import threading
import time
from typing import Callable

log = logging.getLogger("dockyard.network.dns")
FORWARD_TIMEOUT = 2.0
TYPE_A, TYPE_AAAA, CLASS_IN = 1, 28, 1
NOERROR, SERVFAIL, NXDOMAIN, REFUSED = 0, 2, 3, 5

Lookup = Callable[[str, str], list[str]]  # (network id, lower-case name) → IPv4 addresses
# client address → that container's own upstream servers (``--dns``), or None
UpstreamsFor = Callable[[str], "list[str] | None"]


def parse_query(packet: bytes) -> tuple[int, int, str, int, int]:
    """→ (id, flags, name, qtype, question end offset); ValueError if malformed."""
    if len(packet) < 12:
        raise ValueError("short packet")
    qid, flags, qdcount = struct.unpack("!HHH", packet[:6])
    if qdcount != 1 or flags & 0x8000:
        raise ValueError("not a single-question query")
    labels, pos = [], 12
    while True:
        size = packet[pos]
        if size == 0 or size & 0xC0:
            break
        labels.append(packet[pos + 1:pos + 1 + size].decode("ascii", "replace"))
        pos += 1 + size
    if size & 0xC0:
        raise ValueError("compressed question")
    qtype, _qclass = struct.unpack("!HH", packet[pos + 1:pos + 5])
    return qid, flags, ".".join(labels).lower(), qtype, pos + 5


def build_answer(packet: bytes, addresses: list[str], rcode: int = NOERROR) -> bytes:
    """A response to ``packet`` carrying A records for ``addresses``."""
    qid, flags, _name, _qtype, end = parse_query(packet)
    out_flags = 0x8000 | 0x0400 | (flags & 0x0100) | 0x0080 | rcode  # QR AA RD RA
    header = struct.pack("!HHHHHH", qid, out_flags, 1, len(addresses), 0, 0)
    answers = b"".join(struct.pack("!HHHIH", 0xC00C, TYPE_A, CLASS_IN, 600, 4)
                       + ipaddress.IPv4Address(a).packed for a in addresses)
    return header + packet[12:end] + answers


def upstream_servers(path: str = "/etc/resolv.conf") -> list[str]:
    """The host's IPv4 nameservers that a container can reach (not loopback)."""
    servers = []
    try:
        with open(path) as f:
            for line in f:
                words = line.split()
                if len(words) >= 2 and words[0] == "nameserver":
                    addr = ipaddress.ip_address(words[1]) if _is_ip(words[1]) else None
                    if addr and addr.version == 4 and not addr.is_loopback:
                        servers.append(words[1])
    except OSError:
        pass
    return servers


def _is_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
        return True
    except ValueError:
        return False


class DNSServer:
    """Serves every user network's DNS socket from one thread."""

    def __init__(self, lookup: Lookup, upstreams: list[str] | None = None,
                 upstreams_for: UpstreamsFor | None = None) -> None:
        self._lookup = lookup
        self._upstreams_for = upstreams_for
        self._upstreams = upstream_servers() if upstreams is None else upstreams
        self._sel = selectors.DefaultSelector()
        self._socks: dict[str, socket.socket] = {}
        self._pending: dict[int, tuple[socket.socket, tuple, bytes, float]] = {}
        self._lock = threading.Lock()
        self._wake_r, self._wake_w = os.pipe()
        self._sel.register(self._wake_r, selectors.EVENT_READ, None)
        self._forward = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self._sel.register(self._forward, selectors.EVENT_READ, "forward")
        self._stop = False
        self._thread = threading.Thread(target=self._loop, name="dns", daemon=True)
        self._thread.start()

    def serve(self, network_id: str, address: str) -> None:
        """Start answering for ``network_id`` on ``address``:53 (idempotent)."""
        with self._lock:
            if network_id in self._socks:
                return
            sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            sock.setsockopt(socket.SOL_IP, 15, 1)  # IP_FREEBIND: the bridge may still be coming up
            try:
                sock.bind((address, 53))
            except OSError:
                sock.close()
                raise
            self._socks[network_id] = sock
            self._sel.register(sock, selectors.EVENT_READ, network_id)
        os.write(self._wake_w, b"x")

    def stop_serving(self, network_id: str) -> None:
        with self._lock:
            sock = self._socks.pop(network_id, None)
            if sock is not None:
                self._sel.unregister(sock)
                sock.close()

    def close(self) -> None:
        self._stop = True
        os.write(self._wake_w, b"x")
        self._thread.join(timeout=5)
        for network_id in list(self._socks):
            self.stop_serving(network_id)
        self._forward.close()
        self._sel.close()
        os.close(self._wake_r)
        os.close(self._wake_w)

    def _loop(self) -> None:
        while not self._stop:
            # register/unregister from other threads is safe with epoll: a key
            # removed meanwhile is simply not reported
            for key, _ in self._sel.select(timeout=1.0):
                try:
                    self._dispatch(key)
                except Exception:  # one bad packet must not stop name resolution
                    log.exception("dns: handling a query failed")
            self._expire()

    def _dispatch(self, key: selectors.SelectorKey) -> None:
        if key.data is None:
            os.read(self._wake_r, 512)
        elif key.data == "forward":
            self._relay()
        else:
            try:
                packet, peer = key.fileobj.recvfrom(4096)
                self._answer(key.fileobj, key.data, packet, peer)
            except OSError:
                pass  # a socket closed under us by stop_serving

    def _answer(self, sock: socket.socket, network_id: str, packet: bytes, peer: tuple) -> None:
        try:
            _qid, _flags, name, qtype, _end = parse_query(packet)
        except (ValueError, IndexError, struct.error):
            return
        name = name.rstrip(".")
        found = self._lookup(network_id, name)
        if found:
            sock.sendto(build_answer(packet, found if qtype == TYPE_A else []), peer)
        elif "." not in name:
            # a single label is a container name or nothing: no upstream knows it, and a
            # quick NXDOMAIN lets an app waiting for a peer to come up retry at once
            sock.sendto(build_answer(packet, [], NXDOMAIN), peer)
        elif servers := (self._upstreams_for and self._upstreams_for(peer[0])) or self._upstreams:
            self._send_upstream(sock, peer, packet, servers)
        else:
            sock.sendto(build_answer(packet, [], REFUSED), peer)

    def _send_upstream(self, sock: socket.socket, peer: tuple, packet: bytes,
                       servers: list[str]) -> None:
        qid = struct.unpack("!H", packet[:2])[0]
        new_id = (qid ^ int.from_bytes(os.urandom(2), "big")) or 1
        self._pending[new_id] = (sock, peer, packet, time.monotonic())
        forwarded = struct.pack("!H", new_id) + packet[2:]
        for server in servers:
            try:
                self._forward.sendto(forwarded, (server, 53))
            except OSError:
                continue

    def _relay(self) -> None:
        try:
            reply, _src = self._forward.recvfrom(65535)
        except OSError:
            return
        entry = self._pending.pop(struct.unpack("!H", reply[:2])[0], None) if len(reply) > 2 else None
        if entry:
            sock, peer, packet, _t = entry
            try:
                sock.sendto(packet[:2] + reply[2:], peer)
            except OSError:
                pass

    def _expire(self) -> None:
        now = time.monotonic()
        for new_id, (sock, peer, packet, t) in list(self._pending.items()):
            if now - t > FORWARD_TIMEOUT:
                self._pending.pop(new_id, None)
                try:
                    sock.sendto(build_answer(packet, [], SERVFAIL), peer)
                except (OSError, ValueError):
                    pass
