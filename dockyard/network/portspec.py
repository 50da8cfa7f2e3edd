"""Port specs: docker's ``-p`` syntax and the API's PortBindings (pure, lean imports).

Two shapes meet here:

* the CLI's ``-p [IP:][HOST:]CTR[/PROTO]`` strings (with ranges ``8000-8010:8000-8010``),
  turned by :func:`parse_publish` into the API's ``ExposedPorts`` / ``PortBindings``;
* the API's ``PortBindings {"80/tcp": [{"HostIp": "", "HostPort": "8080"}]}`` and
  ``ExposedPorts {"80/tcp": {}}``, turned by :func:`bindings` into :class:`Binding` rows,
  one per (container port, host address) with a host port range to choose from
  (``0, 0`` = any free port).

Every error is an InvalidArgument naming the offending spec.
"""
from __future__ import annotations

import _socket  # inet_pton: ipaddress and dataclasses cost the CLI ~40 ms of imports (re)

from dockyard.errors import InvalidArgument

PROTOCOLS = ("tcp", "udp", "sctp")


class Binding:
    """One requested publication; ``host_lo == host_hi == 0`` means "any free port".
    Immutable and compared by value (a frozen dataclass without importing dataclasses:
    ``run -p`` parses specs in the CLI, whose start-up is part of every command)."""

    __slots__ = ("proto", "container_port", "host_ip", "host_lo", "host_hi")

    def __init__(self, proto: str, container_port: int, host_ip: str, host_lo: int,
                 host_hi: int) -> None:
        for name, value in zip(self.__slots__, (proto, container_port, host_ip, host_lo,
                                                host_hi)):
            object.__setattr__(self, name, value)

    def __setattr__(self, name, value):
        raise AttributeError(f"Binding is immutable (tried to set {name})")

    def _fields(self) -> tuple:
        return tuple(getattr(self, n) for n in self.__slots__)

    def __eq__(self, other) -> bool:
        return isinstance(other, Binding) and self._fields() == other._fields()

    def __hash__(self) -> int:
        return hash(self._fields())

    def __repr__(self) -> str:
        return "Binding(" + ", ".join(f"{n}={getattr(self, n)!r}" for n in self.__slots__) + ")"

    @property
    def key(self) -> str:
        return f"{self.container_port}/{self.proto}"


def _port(text: str, what: str) -> int:
    if not text.isdigit():
        raise InvalidArgument(f"invalid {what} {text!r}: not a port number")
    value = int(text)
    if not 1 <= value <= 65535:
        raise InvalidArgument(f"invalid {what} {text!r}: port must be within 1-65535")
    return value


def _range(text: str, what: str) -> tuple[int, int]:
    lo, sep, hi = text.partition("-")
    first = _port(lo, what)
    last = _port(hi, what) if sep else first
    if last < first:
        raise InvalidArgument(f"invalid {what} range {text!r}: end is before start")
    return first, last


def parse_port_key(key: str) -> tuple[int, str]:
    """``"80/tcp"`` → ``(80, "tcp")``; protocol defaults to tcp."""
    port, _, proto = str(key).partition("/")
    proto = proto.lower() or "tcp"
    if proto not in PROTOCOLS:
        raise InvalidArgument(f"invalid port {key!r}: unknown protocol {proto!r} (tcp, udp or sctp)")
    return _port(port, "container port"), proto


def _host_ip(text: str) -> str:
    text = text.strip("[]")
    if not text:
        return ""
    try:
        _socket.inet_pton(_socket.AF_INET6 if ":" in text else _socket.AF_INET, text)
    except OSError:
        raise InvalidArgument(f"invalid host ip {text!r} in port binding") from None
    return text


def parse_publish(spec: str) -> tuple[dict, dict]:
    """One ``-p`` value → (ExposedPorts, PortBindings) fragments, ranges expanded like docker."""
    body, _, proto = spec.rpartition("/") if "/" in spec else (spec, "", "tcp")
    parts = body.rsplit(":", 2)
    ip, host = ("", "") if len(parts) == 1 else (("", parts[0]) if len(parts) == 2 else parts[:2])
    ip = _host_ip(ip)
    clo, chi = _range(parts[-1], "container port")
    parse_port_key(f"{clo}/{proto}")  # validates the protocol
    exposed, bound = {}, {}
    if host:
        hlo, hhi = _range(host, "host port")
        if hhi - hlo != chi - clo and chi != clo:
            raise InvalidArgument(f"invalid port spec {spec!r}: host and container ranges differ in size")
    for i, cport in enumerate(range(clo, chi + 1)):
        key = f"{cport}/{proto.lower()}"
        if not host:
            hport = ""
        elif chi == clo:
            hport = host  # one container port, a host range to pick from
        else:
            hport = str(hlo + i)
        exposed[key] = {}
        bound.setdefault(key, []).append({"HostIp": ip, "HostPort": hport})
    return exposed, bound


def _binding(key: str, entry: dict | None) -> Binding:
    cport, proto = parse_port_key(key)
    entry = entry or {}
    ip = _host_ip(entry.get("HostIp") or "")
    host = str(entry.get("HostPort") or "").strip()
    lo, hi = _range(host, f"host port for {key}") if host and host != "0" else (0, 0)
    return Binding(proto, cport, ip or "0.0.0.0", lo, hi)


def bindings(port_bindings: dict | None, exposed: dict | None = None,
             publish_all: bool = False) -> list[Binding]:
    """All publications a container asks for: explicit bindings plus, with ``-P``,
    every exposed port not bound explicitly (on a free host port)."""
    out: list[Binding] = []
    for key, entries in (port_bindings or {}).items():
        for entry in entries or [None]:
            out.append(_binding(key, entry))
    if publish_all:
        bound = {b.key for b in out}
        for key in exposed or {}:
            cport, proto = parse_port_key(key)
            if f"{cport}/{proto}" not in bound:
                out.append(Binding(proto, cport, "0.0.0.0", 0, 0))
    return out
