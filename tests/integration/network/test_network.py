"""Real bridges, veths, netns, iptables NAT and the embedded DNS (root)."""
from __future__ import annotations

import os
import socket
import struct
import subprocess
import threading

import pytest

from dockyard.errors import Conflict, InvalidArgument, NotFound
from dockyard.network import dns
from tests.integration.network.conftest import (host_address, http_get, serve_tcp,
                                                serve_udp_echo)

pytestmark = pytest.mark.root


def new_container(svc, name, mode="default", ports=None, endpoints=None):
    cid = os.urandom(32).hex()
    path = svc.create_netns(cid)
    try:
        settings = svc.setup_container(cid, path, f"/{name}", name, mode, endpoints or {},
                                       ports or {}, {}, False)
    except BaseException:
        svc.teardown_container(cid)  # what the container service does on a failed start
        raise
    return cid, path, settings


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("0.0.0.0", 0))
        return s.getsockname()[1]


def dns_query(netns_path: str, server: str, name: str) -> list[str]:
    """Resolve ``name`` from inside a namespace by asking ``server`` (A records)."""
    from dockyard.network import netns
    q = struct.pack("!HHHHHH", 7, 0x0100, 1, 0, 0, 0) + b"".join(
        bytes([len(p)]) + p.encode() for p in name.split(".")) + b"\0\0\1\0\1"

    def ask():
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.settimeout(1)
            for _ in range(4):  # resend like a resolver does
                s.sendto(q, (server, 53))
                try:
                    return s.recv(512)
                except socket.timeout:
                    continue
            raise TimeoutError(f"no DNS answer for {name} from {server}")
    reply = netns.run_in(netns_path, ask)
    count = struct.unpack("!H", reply[6:8])[0]
    return [socket.inet_ntoa(reply[len(reply) - 16 * i + 12:len(reply) - 16 * i + 16])
            for i in range(count, 0, -1)]


def test_user_network_containers_reach_each_other_by_name(svc):
    svc.create_network("app")
    web, web_ns, web_s = new_container(svc, "web", "app", endpoints={"app": {"Aliases": ["www"]}})
    cli, cli_ns, cli_s = new_container(svc, "client", "app")
    web_ip = web_s["Networks"]["app"]["IPAddress"]
    dns_server = cli_s["DNS"][0]
    assert dns_query(cli_ns, dns_server, "web") == [web_ip]
    assert dns_query(cli_ns, dns_server, "WWW") == [web_ip]
    assert dns_query(cli_ns, dns_server, web[:12]) == [web_ip]
    listener = serve_tcp(web_ns, 8080)
    try:
        from dockyard.network import netns
        body = netns.run_in(cli_ns, lambda: http_get(dns_query(cli_ns, dns_server, "web")[0], 8080))
        assert body.endswith(b"hello")
    finally:
        listener.close()
    svc.teardown_container(web)
    assert dns_query(cli_ns, dns_server, "web") == []


def test_published_port_answers_on_localhost_and_host_address(svc):
    port = free_port()
    cid, path, s = new_container(svc, "pub", ports={"80/tcp": [{"HostPort": str(port)}]})
    assert s["Ports"] == {"80/tcp": [{"HostIp": "0.0.0.0", "HostPort": str(port)}]}
    listener = serve_tcp(path, 80, b"published")
    try:
        assert http_get("127.0.0.1", port).endswith(b"published")
        addr = host_address()
        if addr:
            assert http_get(addr, port).endswith(b"published")
        # the port is reserved: a host program cannot take it, another container neither
        with pytest.raises(OSError):
            socket.create_server(("0.0.0.0", port))
        with pytest.raises(Conflict, match=str(port)):
            new_container(svc, "clash", ports={"80/tcp": [{"HostPort": str(port)}]})
    finally:
        listener.close()
    svc.teardown_container(cid)
    socket.create_server(("0.0.0.0", port)).close()  # released


def test_udp_publishing(svc):
    port = free_port()
    cid, path, _ = new_container(svc, "udp", ports={"53/udp": [{"HostPort": str(port)}]})
    sock = serve_udp_echo(path, 53)
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as c:
            c.settimeout(5)
            c.sendto(b"ping", ("127.0.0.1", port))
            assert c.recv(100) == b"echo:ping"
    finally:
        sock.close()


def test_taken_port_is_a_conflict_before_anything_is_made(svc):
    with socket.create_server(("0.0.0.0", 0)) as busy:
        port = busy.getsockname()[1]
        cid = os.urandom(32).hex()
        path = svc.create_netns(cid)
        with pytest.raises(Conflict, match=f"{port}"):
            svc.check_ports({"80/tcp": [{"HostPort": str(port)}]})
        with pytest.raises(Conflict, match=f"{port}"):
            svc.setup_container(cid, path, "/x", "x", "default", {},
                                {"80/tcp": [{"HostPort": str(port)}]}, {}, False)
        assert svc.store.sandboxes() == [] and svc.store.endpoints() == []
        svc.teardown_container(cid)


def test_publishing_survives_daemon_restart(make_engine):
    svc = make_engine().networks
    svc.recover()
    port = free_port()
    cid, path, _ = new_container(svc, "keep", ports={"80/tcp": [{"HostPort": str(port)}]})
    listener = serve_tcp(path, 80, b"still here")
    try:
        svc.close()  # the daemon stops; the container keeps running
        assert http_get("127.0.0.1", port).endswith(b"still here")
        engine2 = make_engine()
        engine2.containers.running.add(cid)
        svc2 = engine2.networks
        svc2.recover()
        assert http_get("127.0.0.1", port).endswith(b"still here")
        with pytest.raises(OSError):
            socket.create_server(("0.0.0.0", port))  # reserved again
        assert svc2.settings(cid)["Ports"]["80/tcp"][0]["HostPort"] == str(port)
    finally:
        listener.close()


def test_recover_removes_leftovers_of_gone_containers(make_engine):
    svc = make_engine().networks
    port = free_port()
    cid, path, s = new_container(svc, "gone", ports={"80/tcp": [{"HostPort": str(port)}]})
    veth = svc.store.endpoints(cid)[0]["host_veth"]
    svc.close()
    svc2 = make_engine().networks  # the container is not in the running list
    svc2.recover()
    assert svc2.store.sandboxes() == [] and svc2.store.ports() == []
    assert not os.path.exists(path)
    assert not os.path.exists(f"/sys/class/net/{veth}")


def test_bad_input_creates_nothing(svc):
    svc.create_network("one", subnet="10.123.0.0/24")
    with pytest.raises(Conflict, match="overlaps"):
        svc.create_network("two", subnet="10.123.0.0/16")
    with pytest.raises(InvalidArgument, match="gateway"):
        svc.create_network("two", subnet="10.124.0.0/24", gateway="10.125.0.1")
    with pytest.raises(NotFound, match="network missing"):
        new_container(svc, "x", "missing")
    with pytest.raises(InvalidArgument, match="65535"):
        new_container(svc, "y", ports={"80/tcp": [{"HostPort": "70000"}]})
    assert [n["name"] for n in svc.store.networks() if not n["builtin"]] == ["one"]
    assert svc.store.sandboxes() == []


def test_network_rm_removes_the_bridge(svc):
    net_id = svc.create_network("tmp")
    bridge = svc.store.network(net_id)["bridge"]
    assert os.path.exists(f"/sys/class/net/{bridge}")
    svc.remove_network("tmp")
    assert not os.path.exists(f"/sys/class/net/{bridge}")


def test_container_setup_inside_namespace(svc):
    from dockyard.network import netns
    cid, path, s = new_container(svc, "inside")

    def inspect():
        mtu = open("/sys/class/net/eth0/mtu").read().strip()
        lo = open("/sys/class/net/lo/operstate").read().strip()
        return mtu, lo, open("/proc/net/route").read()
    mtu, lo, routes = netns.run_in(path, inspect)
    assert mtu == str(svc.mtu) and lo == "unknown"
    assert any(line.split()[1] == "00000000" for line in routes.splitlines()[1:])


def test_udp_flow_follows_the_port_to_a_new_container(svc):
    """A client keeping its source port must reach the new container, not the old one."""
    port = free_port()
    first, path, _ = new_container(svc, "udp1", ports={"53/udp": [{"HostPort": str(port)}]})
    sock = serve_udp_echo(path, 53)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as c:
        c.settimeout(5)
        c.sendto(b"one", ("127.0.0.1", port))
        assert c.recv(100) == b"echo:one"
        sock.close()
        svc.teardown_container(first)
        second, path2, _ = new_container(svc, "udp2", ports={"53/udp": [{"HostPort": str(port)}]})
        sock2 = serve_udp_echo(path2, 53)
        try:
            c.sendto(b"two", ("127.0.0.1", port))
            assert c.recv(100) == b"echo:two"
        finally:
            sock2.close()


def test_networks_are_isolated_and_internal_has_no_way_out(svc):
    from dockyard.network import netns
    svc.create_network("one")
    svc.create_network("two", internal=True)
    a, a_ns, a_s = new_container(svc, "a", "one")
    b, b_ns, b_s = new_container(svc, "b", "two")
    b2, b2_ns, _ = new_container(svc, "b2", "two")
    listener = serve_tcp(b_ns, 8080)
    try:
        b_ip = b_s["Networks"]["two"]["IPAddress"]
        # same network (even internal): reachable
        assert netns.run_in(b2_ns, lambda: http_get(b_ip, 8080)).endswith(b"hello")
        # another network: dropped by the FORWARD rules
        with pytest.raises(OSError):
            netns.run_in(a_ns, lambda: http_get(b_ip, 8080, timeout=1))
    finally:
        listener.close()
    bridge = svc.store.network("two")["bridge"]
    saved = subprocess.run(["iptables-save"], capture_output=True, text=True).stdout
    assert f"-A {svc.cfg.chain}-FORWARD -i {bridge} -j DROP" in saved
    assert not any(f"! -o {bridge} -j MASQUERADE" in line for line in saved.splitlines())


def test_hairpin_containers_reach_published_ports_through_the_host(svc):
    from dockyard.network import netns
    addr = host_address()
    if addr is None:
        pytest.skip("the host has no address besides loopback")
    port = free_port()
    a, a_ns, _ = new_container(svc, "hp-a", ports={"80/tcp": [{"HostPort": str(port)}]})
    b, b_ns, _ = new_container(svc, "hp-b")
    listener = serve_tcp(a_ns, 80, b"hairpin")
    try:
        assert netns.run_in(b_ns, lambda: http_get(addr, port)).endswith(b"hairpin")
        assert netns.run_in(a_ns, lambda: http_get(addr, port)).endswith(b"hairpin")
    finally:
        listener.close()


def test_own_dns_servers_behind_the_embedded_dns(svc):
    """--dns on a user network: names of peers still resolve, the rest goes to --dns."""
    from dockyard.network import netns
    svc.create_network("dnsnet")
    upstream_ns = svc.create_netns("f" * 64)  # a fake upstream resolver on another network
    try:
        up = svc.setup_container("f" * 64, upstream_ns, "/upstream", "up", "default", {}, {}, {},
                                 False)
        up_ip = up["IPAddress"]

        def fake_resolver():
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            s.bind(("0.0.0.0", 53))
            return s
        resolver = netns.run_in(upstream_ns, fake_resolver)

        def answer_once():
            packet, peer = resolver.recvfrom(512)
            resolver.sendto(dns.build_answer(packet, ["192.0.2.99"]), peer)
        threading.Thread(target=answer_once, daemon=True).start()
        cid = os.urandom(32).hex()
        path = svc.create_netns(cid)
        s = svc.setup_container(cid, path, "/asker", "asker", "dnsnet", {}, {}, {}, False,
                                dns_servers=[up_ip])
        assert s["DNS"] == [svc.store.by_name("dnsnet")["gateway"]]
        assert dns_query(path, s["DNS"][0], "asker") == [s["Networks"]["dnsnet"]["IPAddress"]]
        assert dns_query(path, s["DNS"][0], "example.org") == ["192.0.2.99"]
        resolver.close()
    finally:
        svc.teardown_container("f" * 64)


def test_spare_netns_is_adopted_fresh_and_removed_at_close(svc):
    """create_netns adopts the empty namespace made ahead of need; close() removes it."""
    from dockyard.network import netns
    first, _path, _ = new_container(svc, "one")
    timer = svc._refill_timer  # the spare is made a little after the setup
    assert timer is not None
    timer.join()
    svc._janitor.submit(lambda: None).result()
    spare = svc._spare
    assert spare and os.path.basename(spare).startswith(".spare-") and netns.is_netns(spare)
    spare_ino = os.stat(spare).st_ino
    cid = os.urandom(32).hex()
    path = svc.create_netns(cid)
    assert os.stat(path).st_ino == spare_ino and netns.is_netns(path)
    assert not os.path.exists(spare)
    # it is as empty as a new one: loopback only
    assert [n for _, n in netns.run_in(path, socket.if_nameindex)] == ["lo"]
    svc.teardown_container(cid)
    svc.teardown_container(first)
    svc._janitor.submit(lambda: None).result()
    assert svc._spare is None or netns.is_netns(svc._spare)
    svc.close()
    netns_dir = os.path.join(svc.engine.exec_root, "netns")
    assert not [e for e in os.listdir(netns_dir) if e.startswith(".spare-")]
