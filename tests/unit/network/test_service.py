"""NetworkService logic over the metadata DB with the kernel seam faked (no root)."""
import pytest

from dockyard.errors import Conflict, InvalidArgument, NotFound

A = "a" * 64
B = "b" * 64


def test_builtin_networks_exist_once(svc):
    names = sorted(n["Name"] for n in svc.list_networks())
    assert names == ["bridge", "host", "none"]
    svc.ensure_builtin()
    assert len(svc.list_networks()) == 3
    bridge = svc.inspect_network("bridge")
    assert bridge["Driver"] == "bridge" and bridge["IPAM"]["Config"][0]["Subnet"]
    assert bridge["Options"]["com.docker.network.bridge.name"] == svc.cfg.bridge


def test_create_validates_and_creates_nothing_on_error(svc):
    net_id = svc.create_network("front", subnet="10.77.0.0/24", gateway="10.77.0.254")
    net = svc.inspect_network("front")
    assert net["Id"] == net_id and net["IPAM"]["Config"] == [
        {"Subnet": "10.77.0.0/24", "Gateway": "10.77.0.254"}]
    assert svc.dns.served[net_id] == "10.77.0.254"
    cases = [
        (dict(name="front"), Conflict, "already exists"),
        (dict(name="x", subnet="10.77.0.128/25"), Conflict, "overlaps with subnet 10.77.0.0/24"),
        (dict(name="x", subnet="10.78.0.0/24", gateway="10.79.0.1"), InvalidArgument, "gateway"),
        (dict(name="x", subnet="10.78.0.1/24"), InvalidArgument, "subnet"),
        (dict(name="x", driver="overlay"), InvalidArgument, "driver"),
        (dict(name="host"), InvalidArgument, "reserved"),
    ]
    for kwargs, err, message in cases:
        with pytest.raises(err, match=message):
            svc.create_network(**kwargs)
    assert sorted(n["Name"] for n in svc.list_networks()) == ["bridge", "front", "host", "none"]


def test_auto_subnets_do_not_overlap(svc):
    a = svc.inspect_network(svc.create_network("a"))["IPAM"]["Config"][0]["Subnet"]
    b = svc.inspect_network(svc.create_network("b"))["IPAM"]["Config"][0]["Subnet"]
    assert a != b


def test_setup_leases_addresses_and_teardown_releases(svc):
    svc.create_network("app", subnet="10.88.5.0/24")
    s1 = svc.setup_container(A, "/ns/a", "/web", "web-host", "app", {"app": {"Aliases": ["www"]}},
                             {}, {}, False)
    s2 = svc.setup_container(B, "/ns/b", "/db", "db-host", "app", {}, {}, {}, False)
    ip1 = s1["Networks"]["app"]["IPAddress"]
    ip2 = s2["Networks"]["app"]["IPAddress"]
    assert (ip1, ip2) == ("10.88.5.2", "10.88.5.3")
    assert s1["Networks"]["app"]["DNSNames"] == ["web", "www", A[:12]]
    assert s1["DNS"] == ["10.88.5.1"]
    assert "10.88.5.2\tweb-host web" in s1["EtcHosts"]
    net_id = s1["Networks"]["app"]["NetworkID"]
    assert svc._lookup(net_id, "www") == ["10.88.5.2"]
    assert svc._lookup(net_id, "db") == ["10.88.5.3"]
    assert set(svc.inspect_network("app")["Containers"]) == {A, B}
    with pytest.raises(Conflict, match="active endpoints"):
        svc.remove_network("app")
    svc.teardown_container(A)
    svc.teardown_container(A)  # idempotent
    assert svc._lookup(net_id, "web") == []
    assert set(svc.inspect_network("app")["Containers"]) == {B}
    # round robin: the released .2 is not handed out again at once
    s3 = svc.setup_container(A, "/ns/a", "/web", "web", "app", {}, {}, {}, False)
    assert s3["Networks"]["app"]["IPAddress"] == "10.88.5.4"
    veths = [n for n, l in svc.links.links.items() if l["kind"] == "veth"]
    assert len(veths) == 2


def test_default_bridge_has_no_dns_and_top_level_fields(svc):
    s = svc.setup_container(A, "/ns/a", "/web", "h", "default", {}, {}, {}, False)
    assert s["IPAddress"] == s["Networks"]["bridge"]["IPAddress"] != ""
    assert s["Networks"]["bridge"]["DNSNames"] is None
    assert s["Gateway"] == svc.inspect_network("bridge")["IPAM"]["Config"][0]["Gateway"]


def test_ports_are_recorded_and_rules_applied(svc):
    s = svc.setup_container(A, "/ns/a", "/web", "h", "bridge", {},
                            {"80/tcp": [{"HostIp": "", "HostPort": "8080"}], "53/udp": [{}]},
                            {"80/tcp": {}, "53/udp": {}, "9000/tcp": {}}, False)
    assert s["Ports"] == {"80/tcp": [{"HostIp": "0.0.0.0", "HostPort": "8080"}],
                          "53/udp": [{"HostIp": "0.0.0.0", "HostPort": "40053"}],
                          "9000/tcp": None}
    add = [b for b in svc.batches if "-A DY" in b and "DNAT" in b][-1]
    assert "--dport 8080" in add and "--dport 40053" in add
    svc.teardown_container(A)
    assert "-D " in svc.batches[-1] and "--dport 8080" in svc.batches[-1]
    assert svc.store.ports() == []


def test_bad_port_creates_nothing(svc):
    with pytest.raises(InvalidArgument, match="unknown protocol 'tpc'"):
        svc.setup_container(A, "/ns/a", "/web", "h", "bridge", {},
                            {"80/tpc": [{"HostPort": "8080"}]}, {}, False)
    assert svc.store.sandboxes() == [] and svc.store.endpoints() == []


def test_failure_midway_rolls_back(svc, monkeypatch):
    from dockyard.network import portmap

    def boom(batch):
        raise OSError("iptables-restore failed: test")
    monkeypatch.setattr(portmap, "run_restore", boom)
    monkeypatch.setattr(portmap, "start_restore", boom)
    svc._chains_ready = True
    with pytest.raises(OSError):
        svc.setup_container(A, "/ns/a", "/web", "h", "bridge", {},
                            {"80/tcp": [{"HostPort": "8080"}]}, {}, False)
    assert svc.store.sandboxes() == [] and svc.store.endpoints() == [] and svc.store.ports() == []
    assert not [n for n, l in svc.links.links.items() if l["kind"] == "veth"]


def test_unknown_network_and_duplicate_alias(svc):
    with pytest.raises(NotFound, match="network nope not found"):
        svc.setup_container(A, "/ns/a", "/web", "h", "nope", {}, {}, {}, False)
    svc.create_network("app")
    with pytest.raises(InvalidArgument, match="duplicate alias 'x'"):
        svc.setup_container(A, "/ns/a", "/web", "h", "app", {"app": {"Aliases": ["x", "x"]}},
                            {}, {}, False)
    assert svc.store.sandboxes() == [] and svc.store.endpoints() == []


def test_requested_ip_only_on_user_networks(svc):
    svc.create_network("app", subnet="10.66.0.0/24")
    s = svc.setup_container(A, "/ns/a", "/web", "h", "app",
                            {"app": {"IPAMConfig": {"IPv4Address": "10.66.0.99"}}}, {}, {}, False)
    assert s["Networks"]["app"]["IPAddress"] == "10.66.0.99"
    with pytest.raises(Conflict, match="10.66.0.99"):
        svc.setup_container(B, "/ns/b", "/db", "h", "app",
                            {"app": {"IPAMConfig": {"IPv4Address": "10.66.0.99"}}}, {}, {}, False)
    with pytest.raises(InvalidArgument, match="user defined networks"):
        svc.setup_container(B, "/ns/b", "/db", "h", "bridge",
                            {"bridge": {"IPAMConfig": {"IPv4Address": "10.66.0.98"}}}, {}, {}, False)


def test_ip_range_and_aux_addresses(svc):
    svc.create_network("rng", subnet="10.67.0.0/24", ip_range="10.67.0.8/30",
                       aux_addresses={"router": "10.67.0.8"})
    ipam_cfg = svc.inspect_network("rng")["IPAM"]["Config"][0]
    assert ipam_cfg == {"Subnet": "10.67.0.0/24", "Gateway": "10.67.0.1",
                        "IPRange": "10.67.0.8/30", "AuxiliaryAddresses": {"router": "10.67.0.8"}}
    s1 = svc.setup_container(A, "/ns/a", "/a", "h", "rng", {}, {}, {}, False)
    assert s1["Networks"]["rng"]["IPAddress"] == "10.67.0.9"  # .8 is reserved
    s2 = svc.setup_container(B, "/ns/b", "/b", "h", "rng",  # a static ip may lie outside
                             {"rng": {"IPAMConfig": {"IPv4Address": "10.67.0.50"}}}, {}, {},
                             False)
    assert s2["Networks"]["rng"]["IPAddress"] == "10.67.0.50"
    svc.teardown_container(B)
    with pytest.raises(InvalidArgument, match="aux-address"):
        svc.setup_container(B, "/ns/b", "/b", "h", "rng",
                            {"rng": {"IPAMConfig": {"IPv4Address": "10.67.0.8"}}}, {}, {}, False)
    for kwargs, message in (({"ip_range": "10.68.0.0/28"}, "need --subnet"),
                            ({"subnet": "10.69.0.0/24", "ip_range": "10.70.0.0/28"},
                             "not inside subnet"),
                            ({"subnet": "10.69.0.0/24", "aux_addresses": {"gw": "10.69.0.1"}},
                             "is the gateway")):
        with pytest.raises(InvalidArgument, match=message):
            svc.create_network("bad", **kwargs)
    assert svc.store.by_name("bad") is None


def test_a_store_made_before_ip_ranges_gains_the_column(tmp_path):
    from dockyard.network.store import NetStore
    from dockyard.store.metadata import Metadata
    meta = Metadata(str(tmp_path / "meta.db"))
    with meta.tx() as db:  # the table as an older dockyard made it
        db.execute("CREATE TABLE net_networks (id TEXT PRIMARY KEY, name TEXT NOT NULL UNIQUE,"
                   " driver TEXT NOT NULL, bridge TEXT, subnet TEXT, gateway TEXT,"
                   " internal INTEGER NOT NULL DEFAULT 0, builtin INTEGER NOT NULL DEFAULT 0,"
                   " attachable INTEGER NOT NULL DEFAULT 0, created TEXT NOT NULL, last_ip TEXT,"
                   " labels TEXT NOT NULL DEFAULT '{}', options TEXT NOT NULL DEFAULT '{}')")
        db.execute("INSERT INTO net_networks (id, name, driver, created) VALUES "
                   "('x', 'old', 'bridge', 'now')")
    store = NetStore(meta)
    assert store.by_name("old")["ipam"] == {}


def test_connect_disconnect_live_and_pending(svc):
    svc.create_network("back")
    svc.setup_container(A, "/ns/a", "/web", "h", "bridge", {}, {}, {}, False)
    svc.connect("back", "web", {"Aliases": ["api"]})
    s = svc.settings(A)
    assert set(s["Networks"]) == {"bridge", "back"}
    with pytest.raises(Conflict, match="already exists"):
        svc.connect("back", A)
    svc.disconnect("back", "web")
    assert set(svc.settings(A)["Networks"]) == {"bridge"}
    with pytest.raises(InvalidArgument, match="not connected"):
        svc.disconnect("back", A)
    # a container that is not running gets the network at its next setup
    svc.engine.containers = None
    svc.connect("back", A[:12])
    svc.teardown_container(A)
    s = svc.setup_container(A, "/ns/a", "/web", "h", "bridge", {}, {}, {}, False)
    assert set(s["Networks"]) == {"bridge", "back"}


def test_host_none_and_container_modes(svc):
    s = svc.setup_container(A, "/ns/a", "/a", "h", "none", {}, {}, {}, False)
    assert list(s["Networks"]) == ["none"] and s["IPAddress"] == ""
    svc.setup_container(B, None, "/b", "h", "host", {"host": {}}, {}, {}, False)
    assert list(svc.settings(B)["Networks"]) == ["host"]
    assert svc.netns_for("container:a") == "/ns/a"
    assert svc.netns_for("host") is None
    with pytest.raises(NotFound):
        svc.netns_for("container:zzz")


def test_prune_and_filters(svc):
    svc.create_network("keep", labels={"k": "v"})
    svc.create_network("drop")
    assert [n["Name"] for n in svc.list_networks({"label": ["k=v"]})] == ["keep"]
    assert {n["Name"] for n in svc.list_networks({"type": ["custom"]})} == {"keep", "drop"}
    assert svc.prune_networks(lambda net: net["labels"].get("k") == "v") == ["drop"]
    with pytest.raises(InvalidArgument, match="pre-defined"):
        svc.remove_network("bridge")


def test_recover_drops_containers_that_are_gone(svc, monkeypatch):
    from dockyard.network import netns
    monkeypatch.setattr(netns, "is_netns", lambda path: True)
    svc.setup_container(A, "/ns/a", "/a", "h", "bridge", {},
                        {"80/tcp": [{"HostPort": "8080"}]}, {}, False)
    svc.setup_container(B, "/ns/b", "/b", "h", "bridge", {}, {}, {}, False)

    class Containers:
        def running_network_info(self):
            return [{"id": A}]
    svc.engine.containers = Containers()
    svc.ports.take = lambda *a: None
    svc.recover()
    assert [sb["container_id"] for sb in svc.store.sandboxes()] == [A]
    rebuilt = svc.batches[-1]
    assert ":DY" in rebuilt and "--dport 8080" in rebuilt


def test_close_removes_bridges_and_chains_when_unused(svc):
    svc.create_network("app")
    links = svc.links
    svc.close()
    assert not [n for n, link in links.links.items() if link["kind"] == "bridge"]
    assert svc.batches[-1].startswith("remove DY")


def test_validate_create(svc):
    svc.create_network("app")
    svc.validate_create("app", {"app": {"Aliases": ["a"]}}, {"80/tcp": [{"HostPort": "80"}]})
    svc.validate_create("default", {"default": {}})
    svc.validate_create("host", {})
    with pytest.raises(NotFound, match="network nonet not found"):
        svc.validate_create("nonet", {})
    with pytest.raises(NotFound, match="network other not found"):
        svc.validate_create("app", {"other": {}})
    with pytest.raises(InvalidArgument, match="aliases"):
        svc.validate_create("default", {"default": {"Aliases": ["x"]}})
    with pytest.raises(InvalidArgument, match="user defined"):
        svc.validate_create("bridge", {"bridge": {"IPAMConfig": {"IPv4Address": "1.2.3.4"}}})
    with pytest.raises(InvalidArgument, match="protocol"):
        svc.validate_create("app", {}, {"80/tpc": []})


def test_custom_bridge_name_is_checked(svc):
    with pytest.raises(Conflict, match="lo is already in use"):
        svc.create_network("x", options={"com.docker.network.bridge.name": "lo"})
    with pytest.raises(InvalidArgument, match="bridge name"):
        svc.create_network("x", options={"com.docker.network.bridge.name": "a" * 16})
    net_id = svc.create_network("x", options={"com.docker.network.bridge.name": "dytestbr9"})
    assert svc.store.network(net_id)["bridge"] == "dytestbr9"


def test_rename_updates_dns(svc):
    svc.create_network("app")
    s = svc.setup_container(A, "/ns/a", "/old", "h", "app", {}, {}, {}, False)
    net_id = s["Networks"]["app"]["NetworkID"]
    svc.rename_container(A, "/new")
    assert svc._lookup(net_id, "new") and not svc._lookup(net_id, "old")


def test_teardown_of_a_shared_netns_container_keeps_the_other_netns(svc, tmp_path):
    own = svc.netns_dir + "/" + A
    svc.setup_container(A, own, "/a", "h", "bridge", {}, {}, {}, False)
    svc.setup_container(B, None, "/b", "h", f"container:{A}", {}, {}, {}, False)
    assert svc.store.sandbox(B)["netns"] == own
    svc.teardown_container(B)
    assert own not in svc.removed_netns
