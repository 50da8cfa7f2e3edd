"""Engine API requests with hostile parameters and bodies, against a real daemon.

Every route of the router gets random path parameters, query strings and bodies.
The daemon must answer each within a few seconds with a JSON error below 500 (or
a success), and stay up. Routes that reach other hosts (pull, push, login, remote
build contexts) or that stream or block by design (events, stats, wait, attach) are left out: tests
send traffic only to loopback.
"""
import json
import socket
import time
import urllib.parse

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from dockyard.api.router import Router
from tests.helpers.daemon import Daemon

pytestmark = pytest.mark.root
SKIP = ("/images/create", "/push", "/auth", "/distribution", "/events", "/wait", "/attach",
        "/stats",
        "/exec/{id}/start", "/build", "/images/load", "/containers/{id}/archive",
        "/_ping", "/session", "/swarm", "/plugins", "/nodes", "/services", "/tasks",
        "/secrets", "/configs")


def _routes():
    r = Router()
    routes = list(r.literal)
    for method, rx, _ in r.patterns:
        routes.append((method, rx.pattern))
    return [x for x in routes if not any(s in x[1].replace("(?P<id>[^/]+)", "{id}") for s in SKIP)]


ROUTES = _routes()


@pytest.fixture(scope="module")
def fuzz_daemon(busybox_tar):
    d = Daemon()
    try:
        d.start()
        d.import_tar(busybox_tar, "busybox:latest")
        d.cli("run", "-d", "--name", "fuzzc", "busybox", "sleep", "600", check=True)
        yield d
    finally:
        d.cleanup()


def _fill(pattern: str, values: list[str]) -> str:
    import re
    out = pattern.strip("^$").replace("\\", "")
    for v in values:
        out = re.sub(r"\(\?P<\w+>[^)]*\)", urllib.parse.quote(v, safe=""), out, count=1)
    return out


def _request(sock_path: str, method: str, target: str, body: bytes) -> tuple[int, bytes]:
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(30)  # stop/restart may wait the 10 s stop timeout
    s.connect(sock_path)
    head = (f"{method} {target} HTTP/1.1\r\nHost: d\r\nConnection: close\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n").encode()
    s.sendall(head + body)
    data = b""
    end = time.monotonic() + 60  # a stream that never ends must not hang the suite
    try:
        while time.monotonic() < end and (chunk := s.recv(65536)):
            data += chunk
    finally:
        s.close()
    status = int(data.split(b" ", 2)[1]) if data.startswith(b"HTTP/1.1 ") else 0
    return status, data


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-2**40, 2**40) | st.text(max_size=12),
    lambda c: st.lists(c, max_size=3) | st.dictionaries(st.text(max_size=10), c, max_size=4),
    max_leaves=12)


NAMES = st.sampled_from(["busybox", "busybox:latest", "fuzzc", "bridge", "none", "host", "sha256:0"])


@settings(max_examples=400, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.sampled_from(ROUTES),
       st.lists(st.one_of(NAMES, st.text(min_size=1, max_size=20)), min_size=3, max_size=3),
       st.dictionaries(st.sampled_from(["all", "force", "t", "filters", "name", "tail", "v",
                                        "size", "limit", "signal", "repo", "tag", "changes"]),
                       st.text(max_size=15), max_size=3),
       st.one_of(st.just(b""), json_values.map(lambda v: json.dumps(v).encode()),
                 st.binary(max_size=64)))
def test_api_answers_hostile_requests(fuzz_daemon, route, params, query, body):
    method, pattern = route
    target = _fill(pattern, params) + ("?" + urllib.parse.urlencode(query) if query else "")
    status, data = _request(fuzz_daemon.socket, method, "/v1.43" + target, body)
    assert status, f"no HTTP answer to {method} {target}"
    assert status < 500 or status == 501, f"{method} {target} {body[:80]!r} -> {data[:400]!r}"
    if status >= 400:
        payload = data.split(b"\r\n\r\n", 1)[1]
        if b"chunked" not in data.split(b"\r\n\r\n", 1)[0].lower():
            assert json.loads(payload)["message"]


def test_daemon_survived_the_fuzzing(fuzz_daemon):
    status, _ = _request(fuzz_daemon.socket, "GET", "/_ping", b"")
    assert status == 200
    r = fuzz_daemon.cli("run", "--rm", "busybox", "echo", "alive")
    assert r.stdout == "alive\n"
    assert fuzz_daemon.client.post("/system/check")["OK"]
