"""Host-port reservation: a bound (never listening) socket per published port.

With kernel NAT nothing ever listens on a published port, so without a reservation a
host program could bind it and silently lose its traffic, and a port already used by
a host program would not be noticed. Binding the port is the check (EADDRINUSE →
Conflict) and keeping the socket is the reservation. Sockets die with dockyardd;
recover() takes them again for running containers.
"""
from __future__ import annotations

import errno
import socket
import threading

from dockyard.errors import Conflict, InvalidArgument
from dockyard.network.portspec import Binding

_TYPES = {"tcp": socket.SOCK_STREAM, "udp": socket.SOCK_DGRAM}


def ephemeral_range() -> tuple[int, int]:
    """The kernel's ip_local_port_range, where ``-p CTR`` picks host ports (like docker)."""
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
            lo, hi = (int(x) for x in f.read().split())
        return lo, hi
    except (OSError, ValueError):
        return 32768, 60999


class PortReserver:
    """Holds the reservation sockets, keyed by (proto, host ip, port)."""

    def __init__(self) -> None:
        self._held: dict[tuple[str, str, int], socket.socket | None] = {}
        self._lock = threading.Lock()
        self._next = 0  # ephemeral picks go round-robin, like docker's allocator

    def _bind(self, proto: str, ip: str, port: int) -> socket.socket | None:
        if proto not in _TYPES:
            return None  # sctp: nothing portable to bind; the NAT rule alone publishes it
        sock = socket.socket(socket.AF_INET, _TYPES[proto])
        try:
            # No SO_REUSEADDR: a program binding the port later fails even when it sets
            # SO_REUSEADDR itself (Linux allows sharing only when both sockets set it).
            sock.bind((ip, port))
        except OSError as e:
            sock.close()
            if e.errno == errno.EADDRNOTAVAIL:
                raise InvalidArgument(f"invalid host ip {ip}: not an address of this host") from None
            raise
        return sock

    def take(self, proto: str, ip: str, port: int) -> None:
        """Reserve one exact port, or raise Conflict naming it."""
        key = (proto, ip, port)
        with self._lock:
            if key in self._held or self._clashes(key):
                raise Conflict(f"port is already allocated: {ip}:{port}/{proto}")
            try:
                self._held[key] = self._bind(proto, ip, port)
            except OSError as e:
                if e.errno == errno.EADDRINUSE:
                    raise Conflict(f"port is already allocated: {ip}:{port}/{proto} is in use "
                                   "on the host") from None
                raise

    def _clashes(self, key: tuple[str, str, int]) -> bool:
        proto, ip, port = key
        wild = ip == "0.0.0.0"
        return any(p == proto and q == port and (wild or i in (ip, "0.0.0.0"))
                   for p, i, q in self._held)

    def reserve(self, b: Binding) -> int:
        """Reserve a host port for ``b``: the exact one, one of its range, or any free one."""
        if b.host_lo and b.host_lo == b.host_hi:
            self.take(b.proto, b.host_ip, b.host_lo)
            return b.host_lo
        lo, hi = (b.host_lo, b.host_hi) if b.host_lo else ephemeral_range()
        size = hi - lo + 1
        start = (self._next - lo) % size
        for step in range(size):
            port = lo + (start + step) % size
            try:
                self.take(b.proto, b.host_ip, port)
            except Conflict:
                continue
            self._next = port + 1
            return port
        raise Conflict(f"no free host port in {lo}-{hi} for {b.key}")

    def release(self, proto: str, ip: str, port: int) -> None:
        """Drop a reservation (missing is fine)."""
        with self._lock:
            sock = self._held.pop((proto, ip, port), None)
        if sock is not None:
            sock.close()

    def close(self) -> None:
        with self._lock:
            held, self._held = self._held, {}
        for sock in held.values():
            if sock is not None:
                sock.close()
