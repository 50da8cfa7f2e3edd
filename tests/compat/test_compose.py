"""docker-compose 1.29 (Debian) drives dockyard: the two-service project in compose_project/.

web is built from a Dockerfile, published on a host port, and calls api by its service
name through the embedded DNS of the project's network.
"""
import os
import shutil
import socket
import subprocess
import time
import urllib.request

import pytest

PROJECT_DIR = os.path.join(os.path.dirname(__file__), "compose_project")
pytestmark = pytest.mark.root


def _free_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


@pytest.fixture
def compose(daemon, tmp_path):
    if not shutil.which("docker-compose"):
        pytest.fail("docker-compose is not installed: run scripts/setup.sh")
    port = _free_port()
    env = dict(daemon.env, WEB_PORT=str(port), COMPOSE_INTERACTIVE_NO_CLI="1")

    def run(*args, check=True):
        return subprocess.run(["docker-compose", "-p", "dycompat", *args], cwd=PROJECT_DIR,
                              env=env, capture_output=True, text=True, timeout=180, check=check)
    run.port = port
    try:
        yield run
    finally:
        run("down", "-v", "--rmi", "local", check=False)


def _get(url: str, deadline: float = 15) -> str:
    end = time.monotonic() + deadline
    while True:
        try:
            with urllib.request.urlopen(url, timeout=3) as r:
                return r.read().decode()
        except OSError:
            if time.monotonic() > end:
                raise
            time.sleep(0.1)


def test_up_ps_logs_exec_down(compose, daemon):
    up = compose("up", "-d", "--build")
    assert "Successfully built" in up.stdout + up.stderr
    ps = compose("ps").stdout
    assert ps.count(" Up ") == 2, ps
    assert f"0.0.0.0:{compose.port}->8000/tcp" in ps
    page = _get(f"http://127.0.0.1:{compose.port}/cgi-bin/index.cgi")
    assert page.strip() == "web says: hello from api"
    assert compose("exec", "-T", "api", "cat", "/www/index.html").stdout.strip() == "hello from api"
    assert "Attaching to" in compose("logs", "--tail", "5").stdout
    compose("down", "-v")
    assert daemon.client.get("/containers/json", {"all": 1}) == []
    names = [n["Name"] for n in daemon.client.get("/networks")]
    assert "dycompat_default" not in names
    vols = daemon.client.get("/volumes")["Volumes"] or []
    assert not [v for v in vols if v["Name"].startswith("dycompat")]
