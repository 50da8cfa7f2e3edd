"""Engine API: /networks (list, inspect, create, remove, prune, connect, disconnect)."""
from __future__ import annotations

import datetime

from dockyard.api.http import JSON, Empty
from dockyard.errors import InvalidArgument


def list_(req, engine):
    return JSON(engine.networks.list_networks(req.query_json("filters", {})))


def inspect(req, engine):
    return JSON(engine.networks.inspect_network(req.match["id"]))


def _ipam(body: dict) -> dict:
    configs = ((body.get("IPAM") or {}).get("Config") or [])
    if len(configs) > 1:
        raise InvalidArgument("invalid IPAM config: only one subnet per network is supported")
    cfg = configs[0] if configs else {}
    aux = cfg.get("AuxiliaryAddresses") or cfg.get("AuxAddress") or None
    if aux is not None and not isinstance(aux, dict):
        raise InvalidArgument("invalid IPAM config: AuxiliaryAddresses must be an object")
    return {"subnet": cfg.get("Subnet") or None, "gateway": cfg.get("Gateway") or None,
            "ip_range": cfg.get("IPRange") or None, "aux_addresses": aux}


def create(req, engine):
    body = req.json()
    name = body.get("Name")
    if not isinstance(name, str) or not name:
        raise InvalidArgument("invalid network create request: Name is required")
    if body.get("EnableIPv6"):
        raise InvalidArgument("invalid network create request: IPv6 is not supported")
    ipam = _ipam(body)
    net_id = engine.networks.create_network(
        name, body.get("Driver") or "bridge", ipam["subnet"], ipam["gateway"],
        bool(body.get("Internal")), body.get("Labels") or {}, body.get("Options") or {},
        bool(body.get("Attachable")), ipam["ip_range"], ipam["aux_addresses"])
    return JSON({"Id": net_id, "Warning": ""}, status=201)


def remove(req, engine):
    engine.networks.remove_network(req.match["id"])
    return Empty()


def prune(req, engine):
    from dockyard.api import filters as f
    filters = f.of(req, f.NETWORK_PRUNE)
    from dockyard.network.views import label_match, parse_until
    untils = [parse_until(v) for v in filters.get("until", [])]
    labels = filters.get("label", [])
    not_labels = filters.get("label!", [])

    def keep(net: dict) -> bool:
        created = datetime.datetime.fromisoformat(net["created"].replace("Z", "+00:00")).timestamp()
        lab = net.get("labels") or {}
        return (any(created >= u for u in untils)
                or any(not label_match(lab, v) for v in labels)
                or any(label_match(lab, v) for v in not_labels))

    return JSON({"NetworksDeleted": engine.networks.prune_networks(keep)})


def connect(req, engine):
    body = req.json()
    if not body.get("Container"):
        raise InvalidArgument("invalid network connect request: Container is required")
    engine.networks.connect(req.match["id"], body["Container"], body.get("EndpointConfig") or {})
    return Empty(status=200)


def disconnect(req, engine):
    body = req.json()
    if not body.get("Container"):
        raise InvalidArgument("invalid network disconnect request: Container is required")
    engine.networks.disconnect(req.match["id"], body["Container"], bool(body.get("Force")))
    return Empty(status=200)


ROUTES = [
    ("GET", "/networks", list_),
    ("POST", "/networks/create", create),
    ("POST", "/networks/prune", prune),
    ("GET", "/networks/{id}", inspect),
    ("DELETE", "/networks/{id}", remove),
    ("POST", "/networks/{id}/connect", connect),
    ("POST", "/networks/{id}/disconnect", disconnect),
]
