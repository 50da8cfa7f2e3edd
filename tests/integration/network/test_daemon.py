"""Networking through a real dockyardd, driven by the dockyard CLI (root)."""
from __future__ import annotations

import json
import os
import socket
import subprocess
import time

import pytest

from tests.integration.network.conftest import host_address, http_get

pytestmark = pytest.mark.root


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("0.0.0.0", 0))
        return s.getsockname()[1]


def get_until_up(host: str, port: int, path: str = "/hostname", wait: float = 10) -> bytes:
    """The first answer of a freshly started server (it starts asynchronously)."""
    deadline = time.monotonic() + wait
    while True:
        try:
            with socket.create_connection((host, port), timeout=2) as s:
                s.sendall(f"GET {path} HTTP/1.0\r\n\r\n".encode())
                data = b""
                while chunk := s.recv(65536):
                    data += chunk
            if data:
                return data
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise TimeoutError(f"nothing answered on {host}:{port}")
        time.sleep(0.05)


def ok(result: subprocess.CompletedProcess) -> str:
    assert result.returncode == 0, result.stderr
    return result.stdout


def our_leftovers(exec_root: str) -> list[str]:
    from dockyard.network.config import NetConfig
    cfg = NetConfig.for_exec_root(exec_root)
    links = [n for n in os.listdir("/sys/class/net")
             if n == cfg.bridge or n.startswith(cfg.user_bridge_prefix)]
    saved = subprocess.run(["iptables-save"], capture_output=True, text=True).stdout
    rules = [line for line in saved.splitlines() if cfg.chain in line]
    return links + rules


HTTPD = ["busybox", "httpd", "-f", "-p", "80", "-h", "/etc"]


def test_publish_survives_restart_and_nothing_is_left(fresh_daemon):
    d = fresh_daemon
    port = free_port()
    cid = ok(d.cli("run", "-d", "-p", f"{port}:80", "--name", "pub", *HTTPD)).strip()
    assert get_until_up("127.0.0.1", port).startswith(b"HTTP/1.1 200")
    addr = host_address()
    if addr:
        assert get_until_up(addr, port).startswith(b"HTTP/1.1 200")
    assert f"0.0.0.0:{port}->80/tcp" in ok(d.cli("ps"))
    busy = d.cli("run", "-d", "-p", f"{port}:80", "--name", "clash", *HTTPD)
    assert busy.returncode != 0 and str(port) in busy.stderr
    d.restart()
    assert get_until_up("127.0.0.1", port).startswith(b"HTTP/1.1 200")
    assert ok(d.cli("port", "pub")).strip() == f"80/tcp -> 0.0.0.0:{port}"
    ok(d.cli("stop", "-t", "1", "pub"))
    with pytest.raises(OSError):
        http_get("127.0.0.1", port, timeout=1)  # unpublished while stopped
    ok(d.cli("start", "pub"))
    assert get_until_up("127.0.0.1", port).startswith(b"HTTP/1.1 200")
    ok(d.cli("rm", "-f", cid))
    d.cli("rm", "-f", "clash")
    with pytest.raises(OSError):
        http_get("127.0.0.1", port, timeout=1)
    d.stop()
    assert our_leftovers(d.exec_root) == []


def test_user_network_names_aliases_connect(daemon):
    d = daemon
    ok(d.cli("network", "create", "--subnet", "10.239.7.0/24", "netapp"))
    try:
        bad = d.cli("network", "create", "--subnet", "10.239.7.128/25", "netapp2")
        assert bad.returncode != 0 and "overlaps" in bad.stderr
        ok(d.cli("run", "-d", "--network", "netapp", "--network-alias", "svc", "--name", "netsrv",
                 *HTTPD))
        out = ok(d.cli("run", "--rm", "--network", "netapp", "busybox", "sh", "-c",
                       "for i in 1 2 3 4 5; do wget -qO- http://netsrv/hostname && break; "
                       "sleep 0.2; done; wget -qO- http://svc/hostname"))
        assert len(out.split()) == 2 and out.split()[0] == out.split()[1]
        inspect = json.loads(ok(d.cli("network", "inspect", "netapp")))[0]
        assert [c["Name"] for c in inspect["Containers"].values()] == ["netsrv"]
        busy = d.cli("network", "rm", "netapp")
        assert busy.returncode != 0 and "active endpoints" in busy.stderr
        # a running container on the default bridge joins the network as eth1
        ok(d.cli("run", "-d", "--name", "netother", "busybox", "sleep", "60"))
        ok(d.cli("network", "connect", "--alias", "other", "--ip", "10.239.7.77", "netapp",
                 "netother"))
        srv_ip = inspect["Containers"][next(iter(inspect["Containers"]))]["IPv4Address"]
        out = ok(d.cli("exec", "netother", "sh", "-c",
                       f"ip -4 addr show eth1; wget -qO- http://{srv_ip.split('/')[0]}/hostname"))
        assert "10.239.7.77/24" in out
        ok(d.cli("network", "disconnect", "netapp", "netother"))
        assert "eth1" not in ok(d.cli("exec", "netother", "ip", "link"))
    finally:
        d.cli("rm", "-f", "netsrv", "netother")
        d.cli("network", "rm", "netapp")
    assert "netapp" not in ok(d.cli("network", "ls"))
