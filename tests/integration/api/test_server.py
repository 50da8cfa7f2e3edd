"""The API server itself: negotiation headers, versions, errors, keep-alive, 501s, clients."""
import json
import socket
import subprocess

import pytest

from tests.helpers.daemon import Daemon


@pytest.fixture(scope="module")
def bare_daemon():
    d = Daemon()
    try:
        yield d.start()
    finally:
        d.cleanup()


def _raw(sock_path: str, request: bytes) -> bytes:
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(sock_path)
    s.sendall(request)
    s.shutdown(socket.SHUT_WR)
    out = b""
    while chunk := s.recv(65536):
        out += chunk
    s.close()
    return out


def test_ping_headers(bare_daemon):
    out = _raw(bare_daemon.socket, b"HEAD /_ping HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    head = out.decode()
    assert head.startswith("HTTP/1.1 200")
    for h in ("Api-Version: 1.43", "Builder-Version: 1", "Ostype: linux", "Swarm: inactive"):
        assert h.lower() in head.lower()


def test_socket_mode_is_0660(bare_daemon):
    import os
    import stat
    assert stat.S_IMODE(os.stat(bare_daemon.socket).st_mode) == 0o660


def test_every_route_under_any_version_prefix(bare_daemon):
    for prefix in ("", "/v1.22", "/v1.43"):
        out = _raw(bare_daemon.socket,
                   f"GET {prefix}/version HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
        assert b"200 OK" in out.split(b"\r\n")[0]
        assert json.loads(out.split(b"\r\n\r\n", 1)[1])["ApiVersion"] == "1.43"


def test_too_new_version_is_400_with_message(bare_daemon):
    out = _raw(bare_daemon.socket, b"GET /v1.99/info HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    assert out.startswith(b"HTTP/1.1 400")
    assert b"Maximum supported API version is 1.43" in out


def test_unknown_path_is_404_json(bare_daemon):
    out = _raw(bare_daemon.socket, b"GET /nope HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    assert out.startswith(b"HTTP/1.1 404")
    assert json.loads(out.split(b"\r\n\r\n", 1)[1]) == {"message": "page not found"}


def test_unimplemented_endpoint_is_501_naming_it(bare_daemon):
    out = _raw(bare_daemon.socket, b"GET /v1.43/swarm HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    assert out.startswith(b"HTTP/1.1 501")
    assert b"GET /swarm is not implemented by dockyard" in out


def test_keep_alive_serves_several_requests(bare_daemon):
    req = b"GET /_ping HTTP/1.1\r\nHost: x\r\n\r\n"
    out = _raw(bare_daemon.socket, req + req + b"GET /_ping HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    assert out.count(b"HTTP/1.1 200") == 3


def test_docker_cli_negotiates_and_talks(bare_daemon):
    out = bare_daemon.docker("version", "--format", "{{.Server.APIVersion}}", check=True)
    assert out.stdout.strip() == "1.43"
    info = bare_daemon.docker("info", "--format", "{{.OSType}} {{.Driver}}", check=True)
    assert info.stdout.strip() == "linux overlay2"


def test_dockyard_cli_version_and_info(bare_daemon):
    out = bare_daemon.cli("version", check=True).stdout
    assert "API version:      1.43" in out
    assert "Containers:" in bare_daemon.cli("info", check=True).stdout


def test_cli_without_daemon_says_so(tmp_path):
    env_sock = f"unix://{tmp_path}/none.sock"
    import os
    from tests.helpers.daemon import dockyard_bin
    r = subprocess.run([dockyard_bin("dockyard"), "version"], capture_output=True, text=True,
                       env=dict(os.environ, DOCKYARD_HOST=env_sock, DOCKYARD_NO_AUTOSTART="1"))
    assert r.returncode == 1
    assert "Cannot connect to the dockyard daemon" in r.stderr


def test_tcp_without_tls_is_refused(tmp_path):
    from tests.helpers.daemon import dockyard_bin
    r = subprocess.run([dockyard_bin("dockyardd"), "--host", "tcp://127.0.0.1:0",
                        "--data-root", str(tmp_path / "d"), "--exec-root", str(tmp_path / "r")],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode != 0
    assert "without --tlsverify" in r.stderr
