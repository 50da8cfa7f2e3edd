"""A NetworkService on a temporary engine with the kernel seam faked: links, the
in-namespace configuration, iptables and DNS are recorded instead of applied."""
from __future__ import annotations

import pytest


class FakeLinks:
    def __init__(self):
        self.links: dict[str, dict] = {}

    def ensure_bridge(self, name, gateway, prefixlen, mtu):
        self.links[name] = {"kind": "bridge", "addr": f"{gateway}/{prefixlen}"}

    def add_veth(self, host_name, bridge, netns_path, peer, mtu):
        if bridge not in self.links:
            raise OSError(19, "no such bridge", bridge)
        self.links[host_name] = {"kind": "veth", "master": bridge, "netns": netns_path, **peer}

    def delete(self, name):
        return self.links.pop(name, None) is not None

    def host_mtu(self):
        return 1500

    def close(self):
        pass


class FakeDNS:
    def __init__(self):
        self.served: dict[str, str] = {}

    def serve(self, network_id, address):
        self.served[network_id] = address

    def stop_serving(self, network_id):
        self.served.pop(network_id, None)

    def close(self):
        self.served.clear()


@pytest.fixture
def svc(tmp_path, monkeypatch):
    from dockyard.engine import Engine
    from dockyard.network import bridge, netns, portmap, sandbox
    batches: list[str] = []
    monkeypatch.setattr(portmap, "run_restore", batches.append)

    def start_restore(batch):
        batches.append(batch)
        return portmap.Pending(None)
    monkeypatch.setattr(portmap, "start_restore", start_restore)
    monkeypatch.setattr(portmap, "save", lambda: "")
    monkeypatch.setattr(portmap, "remove_chains", lambda chain: batches.append(f"remove {chain}"))
    monkeypatch.setattr(bridge, "configure_container", lambda *a, **k: None)
    monkeypatch.setattr(sandbox, "_hairpin", lambda name: None)
    removed: list[str] = []
    monkeypatch.setattr(netns, "remove", removed.append)
    engine = Engine(str(tmp_path / "data"), str(tmp_path / "run"))
    service = engine.networks
    links = FakeLinks()
    service._make_links = lambda: links
    service._links, service.mtu, service._dns = links, 1500, FakeDNS()
    service.batches, service.removed_netns = batches, removed
    service.ports.reserve = lambda b: b.host_lo or 40000 + b.container_port
    service.ports.release = lambda *a: None
    yield service
