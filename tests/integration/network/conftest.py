"""In-process NetworkService on real kernel objects, with exhaustive cleanup.

Each test gets an engine on its own temporary roots, so the bridge, user-bridge prefix
and iptables chains carry names derived from that root and cannot collide with a
running dockyardd. "Containers" here are bare network namespaces; servers run inside
them as sockets created by a thread that joined the namespace.
"""
from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import threading

import pytest


class FakeContainers:
    """engine.containers as the network service sees it at recover() time."""

    def __init__(self):
        self.running: set[str] = set()

    def running_network_info(self):
        return [{"id": cid} for cid in self.running]


def link_names() -> set[str]:
    return set(os.listdir("/sys/class/net"))


def leftovers(cfg, exec_root: str, veths: set[str]) -> list[str]:
    """Everything of ours still present: links, iptables chains, netns files/mounts.
    (Other programs may create links meanwhile: only names that are ours count.)"""
    ours = (cfg.bridge, cfg.user_bridge_prefix)
    found = [f"link {n}" for n in link_names() if n.startswith(ours) or n in veths]
    saved = subprocess.run(["iptables-save"], capture_output=True, text=True).stdout
    found += [f"iptables {line}" for line in saved.splitlines() if cfg.chain in line]
    netns_dir = os.path.join(exec_root, "netns")
    found += [f"netns {e}" for e in (os.listdir(netns_dir) if os.path.isdir(netns_dir) else [])]
    with open("/proc/self/mountinfo") as f:
        found += [f"mount {line.split()[4]}" for line in f if exec_root in line.split()[4]]
    return found


@pytest.fixture
def make_engine(tmp_path):
    """make_engine() → an Engine whose .networks is real; all are cleaned up at the end."""
    from dockyard.engine import Engine
    engines = []
    veths: set[str] = set()
    data, run = str(tmp_path / "data"), str(tmp_path / "run")

    def make():
        engine = Engine(data, run)
        engine.containers = FakeContainers()
        engines.append(engine)
        svc = engine.networks
        allocate = svc._allocate

        def recording_allocate(*args, **kwargs):
            ep = allocate(*args, **kwargs)
            veths.add(ep["host_veth"])
            return ep
        svc._allocate = recording_allocate
        return engine

    yield make
    svc = engines[-1].networks if engines else None
    if svc is not None:
        netns_dir = os.path.join(run, "netns")
        ids = {sb["container_id"] for sb in svc.store.sandboxes()}
        ids |= set(os.listdir(netns_dir)) if os.path.isdir(netns_dir) else set()
        for cid in ids:
            with contextlib.suppress(Exception):
                svc.teardown_container(cid)
        for net in svc.store.networks():
            if not net["builtin"]:
                with contextlib.suppress(Exception):
                    svc.remove_network(net["id"])
        svc.close()
        left = leftovers(svc.cfg, run, veths)
        assert not left, f"left behind: {left}"


@pytest.fixture
def svc(make_engine):
    return make_engine().networks


def serve_tcp(netns_path: str, port: int, reply: bytes = b"hello") -> socket.socket:
    """A tiny HTTP responder listening inside the namespace; close the socket to stop it."""
    from dockyard.network import netns
    listener = netns.run_in(netns_path, lambda: socket.create_server(("0.0.0.0", port)))

    def loop():
        while True:
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            with conn:
                conn.recv(65536)
                conn.sendall(b"HTTP/1.0 200 OK\r\nContent-Length: %d\r\n\r\n" % len(reply) + reply)

    threading.Thread(target=loop, daemon=True).start()
    return listener


def serve_udp_echo(netns_path: str, port: int) -> socket.socket:
    from dockyard.network import netns

    def make():
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind(("0.0.0.0", port))
        return s
    sock = netns.run_in(netns_path, make)

    def loop():
        while True:
            try:
                data, peer = sock.recvfrom(2048)
                sock.sendto(b"echo:" + data, peer)
            except OSError:
                return

    threading.Thread(target=loop, daemon=True).start()
    return sock


def http_get(host: str, port: int, timeout: float = 5) -> bytes:
    with socket.create_connection((host, port), timeout=timeout) as s:
        s.sendall(b"GET / HTTP/1.0\r\n\r\n")
        data = b""
        while chunk := s.recv(65536):
            data += chunk
    return data


def host_address() -> str | None:
    """The host's address on its default-route interface (eth0 here)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        try:
            s.connect(("192.0.2.1", 9))  # no packet is sent for a UDP connect
        except OSError:
            return None
        addr = s.getsockname()[0]
    return None if addr.startswith("127.") else addr
