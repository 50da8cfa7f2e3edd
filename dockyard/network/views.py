"""docker's JSON shapes for networks and container network settings (pure)."""
from __future__ import annotations

import datetime
import ipaddress
import re
import time

from dockyard.errors import InvalidArgument
from dockyard.network import portspec


def ports_settings(rows: list[dict], exposed: dict | None) -> dict:
    """docker's NetworkSettings.Ports: published ports with their bindings, exposed ones null."""
    out: dict = {}
    for key in exposed or {}:
        cport, proto = portspec.parse_port_key(key)
        out.setdefault(f"{cport}/{proto}", None)
    for r in rows:
        key = f"{r['container_port']}/{r['proto']}"
        out[key] = (out.get(key) or []) + [{"HostIp": r["host_ip"], "HostPort": str(r["host_port"])}]
    return out


def endpoint_settings(net: dict, ep: dict, dns_names: list[str] | None) -> dict:
    """One entry of NetworkSettings.Networks."""
    plen = ipaddress.ip_network(net["subnet"]).prefixlen
    return {"IPAMConfig": {"IPv4Address": ep["ipam_ip"]} if ep.get("ipam_ip") else None,
            "Links": None, "Aliases": ep["aliases"] or None, "MacAddress": ep["mac"],
            "DriverOpts": None, "GwPriority": 0, "NetworkID": net["id"],
            "EndpointID": ep["endpoint_id"], "Gateway": net["gateway"], "IPAddress": ep["ip"],
            "IPPrefixLen": plen, "IPv6Gateway": "", "GlobalIPv6Address": "",
            "GlobalIPv6PrefixLen": 0, "DNSNames": dns_names}


def empty_endpoint(net: dict) -> dict:
    """The Networks entry for host/none: no address."""
    return {"IPAMConfig": None, "Links": None, "Aliases": None, "MacAddress": "", "DriverOpts": None,
            "GwPriority": 0, "NetworkID": net["id"], "EndpointID": "", "Gateway": "",
            "IPAddress": "", "IPPrefixLen": 0, "IPv6Gateway": "", "GlobalIPv6Address": "",
            "GlobalIPv6PrefixLen": 0, "DNSNames": None}


def network_view(net: dict, containers: dict | None = None) -> dict:
    """docker's Network object (inspect shape; list omits nothing but Containers)."""
    bridge = net["driver"] == "bridge"
    ipam_cfg = [{"Subnet": net["subnet"], "Gateway": net["gateway"]}] if bridge else []
    extra = net.get("ipam") or {}
    if ipam_cfg and extra.get("ip_range"):
        ipam_cfg[0]["IPRange"] = extra["ip_range"]
    if ipam_cfg and extra.get("aux"):
        ipam_cfg[0]["AuxiliaryAddresses"] = dict(extra["aux"])
    options = dict(net.get("options") or {})
    if bridge and net.get("builtin"):
        options.setdefault("com.docker.network.bridge.name", net["bridge"])
    out = {"Name": net["name"], "Id": net["id"],
           "Created": net["created"] if not net.get("builtin") or bridge else "0001-01-01T00:00:00Z",
           "Scope": "local", "Driver": net["driver"], "EnableIPv4": bridge, "EnableIPv6": False,
           "IPAM": {"Driver": "default", "Options": None if net.get("builtin") else {},
                    "Config": ipam_cfg},
           "Internal": bool(net.get("internal")), "Attachable": bool(net.get("attachable")),
           "Ingress": False, "ConfigFrom": {"Network": ""}, "ConfigOnly": False,
           "Options": options, "Labels": dict(net.get("labels") or {})}
    if containers is not None:
        out["Containers"] = containers
    return out


def container_entry(net: dict, ep: dict, name: str) -> dict:
    """One value of a network's Containers map."""
    plen = ipaddress.ip_network(net["subnet"]).prefixlen
    return {"Name": name, "EndpointID": ep["endpoint_id"], "MacAddress": ep["mac"],
            "IPv4Address": f"{ep['ip']}/{plen}", "IPv6Address": ""}


def label_match(labels: dict, wanted: str) -> bool:
    key, sep, value = wanted.partition("=")
    return key in labels and (not sep or labels[key] == value)


FILTERS = {
    "name": lambda net, v: v in net["name"],
    "id": lambda net, v: net["id"].startswith(v),
    "driver": lambda net, v: net["driver"] == v,
    "scope": lambda net, v: v == "local",
    "type": lambda net, v: (v == "builtin") == bool(net.get("builtin")),
    "label": lambda net, v: label_match(net.get("labels") or {}, v),
}


def matches(net: dict, filters: dict, in_use: bool) -> bool:
    """docker's network filters (each key: any value matches; all keys must match)."""
    for key, values in (filters or {}).items():
        if isinstance(values, dict):  # old {"value": true} form
            values = [k for k, on in values.items() if on]
        if key == "dangling":
            if not any((v in ("true", "1")) != in_use for v in values):
                return False
            continue
        test = FILTERS.get(key)
        if test is None:
            raise InvalidArgument(f"invalid filter {key!r}")
        if not any(test(net, v) for v in values):
            return False
    return True


_UNITS = {"ns": 1e-9, "us": 1e-6, "ms": 1e-3, "s": 1, "m": 60, "h": 3600}


def parse_until(value: str) -> float:
    """docker's ``until``: unix seconds, an RFC 3339 time, or a Go duration ago (``10m``)."""
    value = value.strip()
    try:
        return float(value)
    except ValueError:
        pass
    parts = re.findall(r"(\d+(?:\.\d+)?)(ns|us|ms|s|m|h)", value)
    if parts and "".join(n + u for n, u in parts) == value:
        return time.time() - sum(float(n) * _UNITS[u] for n, u in parts)
    try:
        return datetime.datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
    except ValueError:
        raise InvalidArgument(f"invalid until filter {value!r}") from None
