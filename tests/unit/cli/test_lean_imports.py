"""The CLI's hot paths import only cheap modules (start-up is most of a short command).

Each command runs in a fresh ``python -S`` (as the launcher starts it) against a fake
daemon on a unix socket, then reports ``sys.modules``; none of the modules that cost
milliseconds to import (argparse, re, enum, json, socket, typing, ...) may be there.
"""
import json
import os
import socket
import subprocess
import sys
import threading

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
HEAVY = {"argparse", "re", "enum", "json", "socket", "typing", "dataclasses", "shutil",
         "subprocess", "signal", "selectors", "gettext", "locale", "shlex", "platform",
         "threading", "struct", "collections", "functools", "importlib", "urllib", "email"}
CID = "c0ffee" * 10 + "abcd"
CONTAINER = {"Id": CID, "Names": ["/web"], "Image": "bb", "ImageID": "sha256:" + "1" * 64,
             "Command": "sleep 3600", "Created": 1700000000, "State": "running",
             "Status": "Up 3 seconds", "Ports": [{"PrivatePort": 80, "PublicPort": 8080,
                                                  "IP": "0.0.0.0", "Type": "tcp"}],
             "Labels": {"a": "b"}, "Mounts": [], "NetworkSettings": {"Networks": {"bridge": {}}}}
INSPECT = {"Id": CID, "Name": "/web", "Config": {"Tty": False, "OpenStdin": False},
           "State": {"Status": "running"}}
IMAGE = {"Id": "sha256:" + "2" * 64, "RepoTags": ["bb:latest"], "RepoDigests": [],
         "Created": 1700000000, "Size": 1234567}
VERSION = {"Version": "0.1.0", "ApiVersion": "1.43", "MinAPIVersion": "1.24", "Os": "linux",
           "Arch": "amd64", "KernelVersion": "6.1"}


def _frame(stream: int, data: bytes) -> bytes:
    return bytes([stream, 0, 0, 0]) + len(data).to_bytes(4, "big") + data


def _answer(method: str, path: str):
    """(status, body, hijack) for one request of the commands under test."""
    path = path.split("?", 1)[0].split("/", 2)[-1]  # without /v1.43
    if method == "POST" and (path.endswith("/attach") or path == "exec/x1/start"):
        return 101, _frame(1, b"hello\n"), True
    table = {
        ("GET", "containers/json"): [CONTAINER],
        ("POST", "containers/create"): {"Id": CID, "Warnings": []},
        ("GET", "images/json"): [IMAGE],
        ("GET", "version"): VERSION,
        ("GET", "_ping"): "OK",
        ("GET", f"containers/{CID}/logs"): _frame(1, b"log line\n"),
        ("POST", "containers/web/exec"): {"Id": "x1"},
        ("GET", "exec/x1/json"): {"ExitCode": 0},
    }
    if (method, path) in table:
        return 200, table[(method, path)], False
    if path.endswith("/wait"):
        return 200, {"StatusCode": 0}, False
    if path.endswith("/json"):
        return 200, INSPECT, False
    return 204, None, False


def _serve(conn: socket.socket) -> None:
    buf = b""
    with conn:
        while True:
            while b"\r\n\r\n" not in buf:
                data = conn.recv(65536)
                if not data:
                    return
                buf += data
            head, buf = buf.split(b"\r\n\r\n", 1)
            lines = head.decode().split("\r\n")
            method, path, _ = lines[0].split(" ")
            length = next((int(h.split(":")[1]) for h in lines[1:]
                           if h.lower().startswith("content-length:")), 0)
            while len(buf) < length:
                buf += conn.recv(65536)
            buf = buf[length:]
            status, body, hijack = _answer(method, path)
            if hijack:
                conn.sendall(b"HTTP/1.1 101 UPGRADED\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n"
                             b"Content-Type: application/vnd.docker.raw-stream\r\n\r\n" + body)
                return
            if isinstance(body, bytes):
                ctype, raw = "application/vnd.docker.raw-stream", body
            elif body is None:
                ctype, raw = None, b""
            else:
                ctype, raw = "application/json", json.dumps(body).encode()
            hdrs = f"HTTP/1.1 {status} X\r\nContent-Length: {len(raw)}\r\n"
            if ctype:
                hdrs += f"Content-Type: {ctype}\r\n"
            conn.sendall(hdrs.encode() + b"\r\n" + raw)


@pytest.fixture(scope="module")
def fake_daemon(tmp_path_factory):
    path = str(tmp_path_factory.mktemp("fake") / "d.sock")
    srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    srv.bind(path)
    srv.listen(16)

    def accept():
        while True:
            try:
                conn, _ = srv.accept()
            except OSError:
                return
            threading.Thread(target=_serve, args=(conn,), daemon=True).start()

    threading.Thread(target=accept, daemon=True).start()
    yield "unix://" + path
    srv.close()


PROBE = """
import sys
sys.path.insert(0, {repo!r})
from dockyard.cli.main import main
rc = main({argv!r})
sys.stdout.flush()
sys.stderr.write("\\nMODULES " + " ".join(sorted(sys.modules)) + "\\n")
sys.stderr.write("RC %d\\n" % rc)
"""

HOT = [["ps"], ["ps", "-a", "--no-trunc"], ["ps", "-q", "-f", "status=running"],
       ["ps", "--format", "table {{.ID}}\\t{{.Names}}"],
       ["run", "--rm", "bb", "true"], ["run", "-d", "bb"],
       ["run", "-d", "-p", "8080:80", "-p", "127.0.0.1:9000-9001:90-91/udp", "bb"],
       ["run", "-d", "--rm", "-e", "A=1", "-e", "HOME", "-m", "64m", "bb", "sleep", "1"],
       ["create", "--name", "web", "bb"], ["start", "web"], ["stop", "-t", "0", "web"],
       ["rm", "-f", "web"], ["images"], ["inspect", "web"], ["inspect", "-f", "{{.Id}}", "web"],
       ["logs", "web"], ["exec", "web", "true"], ["version"], ["kill", "web"], ["wait", "web"]]


@pytest.mark.parametrize("argv", HOT, ids=lambda a: " ".join(a))
def test_hot_paths_import_no_heavy_module(fake_daemon, argv):
    env = dict(os.environ, DOCKYARD_HOST=fake_daemon, DOCKYARD_NO_AUTOSTART="1")
    r = subprocess.run([sys.executable, "-S", "-c", PROBE.format(repo=REPO, argv=argv)],
                       env=env, capture_output=True, text=True, timeout=60)
    assert "MODULES" in r.stderr, r.stderr
    report = r.stderr.rsplit("MODULES ", 1)[1]
    modules = set(report.split("\n", 1)[0].split())
    rc = int(report.split("RC ", 1)[1])
    assert rc == 0, (r.stdout, r.stderr)
    loaded = {m for m in modules if m.split(".")[0] in HEAVY}
    assert not loaded, f"dockyard {' '.join(argv)} imported {sorted(loaded)}"
    # ``import os`` is ~1 ms of a 10 ms ``ps``: only the streaming verbs (attached run,
    # logs, exec: terminal and fd handling) may pay it
    if argv[0] not in ("logs", "exec") and argv[:2] != ["run", "--rm"]:
        assert "os" not in modules, f"dockyard {' '.join(argv)} imported os"


def test_output_of_ps_against_fake(fake_daemon):
    env = dict(os.environ, DOCKYARD_HOST=fake_daemon, DOCKYARD_NO_AUTOSTART="1")
    r = subprocess.run([sys.executable, "-S", "-c", PROBE.format(repo=REPO, argv=["ps"])],
                       env=env, capture_output=True, text=True, timeout=60)
    lines = r.stdout.splitlines()
    assert lines[0].split() == ["CONTAINER", "ID", "IMAGE", "COMMAND", "CREATED", "STATUS",
                                "PORTS", "NAMES"]
    assert lines[1].startswith(CID[:12]) and "0.0.0.0:8080->80/tcp" in lines[1]
    assert lines[1].endswith("web")
