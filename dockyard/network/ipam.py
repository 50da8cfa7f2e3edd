"""IPv4 address management: subnets, gateways and address picking (pure, no I/O).

The network service persists what these functions decide: a network's subnet and
gateway in its record, each endpoint's address in the endpoints table (unique per
network), and the last address handed out, so addresses are given out round-robin
(like docker) and a just-released address is not reused at once.

Glossary: *subnet* is an ``ipaddress.IPv4Network``; *reserved* addresses are the
network address, the gateway and the broadcast address; *used* addresses belong to
live endpoints.
"""
from __future__ import annotations

import ipaddress
from typing import Iterable

from dockyard.errors import Conflict, InvalidArgument, Unavailable

Net = ipaddress.IPv4Network
Addr = ipaddress.IPv4Address


def parse_subnet(text: str, field: str = "subnet") -> Net:
    """Parse ``10.1.0.0/24``; host bits set or IPv6 are an InvalidArgument naming ``field``."""
    try:
        net = ipaddress.ip_network(text.strip(), strict=True)
    except ValueError as e:
        raise InvalidArgument(f"invalid {field} {text!r}: {e}") from None
    if net.version != 4:
        raise InvalidArgument(f"invalid {field} {text!r}: only IPv4 subnets are supported")
    if net.prefixlen > 30:
        raise InvalidArgument(f"invalid {field} {text!r}: prefix must be /30 or shorter")
    return net


def parse_address(text: str, field: str) -> Addr:
    """Parse one IPv4 address; errors name ``field``."""
    try:
        addr = ipaddress.ip_address(text.strip())
    except ValueError:
        raise InvalidArgument(f"invalid {field} {text!r}: not an IP address") from None
    if addr.version != 4:
        raise InvalidArgument(f"invalid {field} {text!r}: only IPv4 is supported")
    return addr


def gateway_for(subnet: Net, gateway: str | None = None) -> Addr:
    """The gateway: the given one (checked to be a host of ``subnet``) or the first host."""
    if not gateway:
        return subnet.network_address + 1
    addr = parse_address(gateway, "gateway")
    if addr not in subnet or addr in (subnet.network_address, subnet.broadcast_address):
        raise InvalidArgument(f"invalid gateway {gateway}: not a host address of subnet {subnet}")
    return addr


def check_overlap(subnet: Net, existing: Iterable[tuple[str, Net]]) -> None:
    """Raise Conflict when ``subnet`` overlaps any (name, subnet) in ``existing``."""
    for name, other in existing:
        if subnet.overlaps(other):
            raise Conflict(f"invalid subnet {subnet}: overlaps with subnet {other} of {name}")


def pick_subnet(pools: Iterable[tuple[Net, int]], taken: Iterable[Net]) -> Net:
    """First subnet of size /prefix from ``pools`` ((pool, prefix) pairs) overlapping nothing taken."""
    taken = list(taken)
    for pool, prefix in pools:
        for candidate in pool.subnets(new_prefix=prefix):
            if not any(candidate.overlaps(t) for t in taken):
                return candidate
    raise Unavailable("no free address pool left for a new network (use --subnet)")


def next_address(subnet: Net, gateway: Addr, used: set[Addr], last: Addr | None,
                 pool: Net | None = None) -> Addr:
    """The first free host address after ``last`` (wrapping round), skipping the gateway;
    from ``pool`` (the network's ip-range, inside ``subnet``) when there is one."""
    pool = pool or subnet
    first = max(int(pool.network_address), int(subnet.network_address) + 1)
    end = min(int(pool.broadcast_address) + 1, int(subnet.broadcast_address))  # exclusive
    size = end - first
    start = int(last) + 1 - first if last is not None and first <= int(last) < end else 0
    for step in range(max(size, 0)):
        addr = Addr(first + (start + step) % size)
        if addr != gateway and addr not in used:
            return addr
    raise Unavailable(f"no free address left in {'ip-range ' if pool != subnet else 'subnet '}"
                      f"{pool}")


def check_ip_range(subnet: Net, text: str) -> Net:
    """``--ip-range``: a block inside the subnet that addresses are handed out from."""
    pool = parse_subnet(text, "ip-range")
    if not pool.subnet_of(subnet):
        raise InvalidArgument(f"invalid ip-range {text}: not inside subnet {subnet}")
    return pool


def check_aux_addresses(subnet: Net, aux: dict) -> dict[str, str]:
    """``--aux-address name=ip``: addresses of the subnet that are never handed out."""
    out = {}
    for name, text in (aux or {}).items():
        addr = parse_address(str(text), f"aux-address {name}")
        if addr not in subnet or addr in (subnet.network_address, subnet.broadcast_address):
            raise InvalidArgument(f"invalid aux-address {name}={text}: not a host address "
                                  f"of subnet {subnet}")
        out[str(name)] = str(addr)
    return out


def check_requested(subnet: Net, gateway: Addr, used: set[Addr], text: str) -> Addr:
    """Validate a user-chosen address (``--ip``): inside the subnet, not reserved, not in use."""
    addr = parse_address(text, "ip")
    if addr not in subnet:
        raise InvalidArgument(f"invalid ip {text}: not in subnet {subnet}")
    if addr in (subnet.network_address, subnet.broadcast_address, gateway):
        raise InvalidArgument(f"invalid ip {text}: reserved address of subnet {subnet}")
    if addr in used:
        raise Conflict(f"ip {text} is already in use on subnet {subnet}")
    return addr


def mac_for(addr: Addr) -> str:
    """docker's classic MAC scheme: 02:42 followed by the four address bytes."""
    return "02:42:" + ":".join(f"{b:02x}" for b in addr.packed)
