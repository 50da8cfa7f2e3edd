"""bocker's command set, each run through its dockyard equivalent (docs/bocker.md).

bocker (p8952/bocker) is the talk's "Docker in < 100 lines of bash": pull, init,
rm, images, ps, run, exec, logs, commit. Docker Hub is out of reach, so `pull`
pulls from a registry this test starts on 127.0.0.1.
"""
from __future__ import annotations

import os
import socket
import subprocess
import tarfile
import time

import pytest

pytestmark = pytest.mark.root

REGISTRY_BIN = "/usr/bin/docker-registry"


def ok(result: subprocess.CompletedProcess) -> str:
    assert result.returncode == 0, f"exit {result.returncode}\n{result.stdout}\n{result.stderr}"
    return result.stdout


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def registry(tmp_path):
    """A plain distribution registry on 127.0.0.1 (docker-registry), stopped afterwards."""
    port = free_port()
    config = tmp_path / "registry.yml"
    config.write_text(f"version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n"
                      f"    rootdirectory: {tmp_path / 'data'}\nhttp:\n  addr: 127.0.0.1:{port}\n")
    proc = subprocess.Popen([REGISTRY_BIN, "serve", str(config)], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
    try:
        for _ in range(200):
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", port)) == 0:
                    break
            assert proc.poll() is None, "docker-registry exited at start"
            time.sleep(0.05)
        yield f"127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(10)


@pytest.fixture
def cleanup(daemon):
    """Names of containers and images the test made; removed even when it fails."""
    made = {"containers": [], "images": []}
    yield made
    for c in made["containers"]:
        daemon.cli("rm", "-f", c)
    for i in made["images"]:
        daemon.cli("rmi", "-f", i)


def test_bocker_pull(daemon, registry, cleanup):
    """`bocker pull busybox latest` → `dockyard pull REGISTRY/busybox:latest`."""
    ref = f"{registry}/bocker/busybox:latest"
    cleanup["images"].append(ref)
    ok(daemon.cli("tag", "busybox:latest", ref))
    ok(daemon.cli("push", ref))
    ok(daemon.cli("rmi", ref))
    out = ok(daemon.cli("pull", ref))
    assert f"Status: Downloaded newer image for {ref}" in out, out
    assert ok(daemon.cli("image", "inspect", "-f", "{{.Id}}", ref)).strip() == \
        ok(daemon.cli("image", "inspect", "-f", "{{.Id}}", "busybox:latest")).strip()


def test_bocker_init_images_rm(daemon, busybox_tar, tmp_path, cleanup):
    """`bocker init DIR` → `dockyard import DIR`; `bocker images`; `bocker rm IMG` → rmi."""
    rootfs = tmp_path / "rootfs"
    with tarfile.open(busybox_tar) as tf:
        tf.extractall(rootfs)
    cleanup["images"].append("bocker-init:latest")
    image_id = ok(daemon.cli("import", str(rootfs), "bocker-init:latest")).strip()
    assert image_id.startswith("sha256:"), image_id
    rows = ok(daemon.cli("images")).splitlines()
    assert any(r.split()[:2] == ["bocker-init", "latest"] for r in rows), rows
    assert ok(daemon.cli("run", "--rm", "bocker-init", "echo", "from a directory")) == \
        "from a directory\n"
    ok(daemon.cli("rmi", "bocker-init:latest"))
    assert "bocker-init" not in ok(daemon.cli("images"))


def test_bocker_run_ps_logs_rm(daemon, cleanup):
    """`bocker run IMG CMD`, `bocker ps`, `bocker logs ID`, `bocker rm ID`."""
    cleanup["containers"].append("bocker-run")
    out = ok(daemon.cli("run", "--name", "bocker-run", "busybox", "echo", "hello from bocker"))
    assert out == "hello from bocker\n"
    ps = ok(daemon.cli("ps", "-a"))
    row = next((r for r in ps.splitlines() if r.endswith(" bocker-run")), "")
    assert "Exited (0)" in row, ps
    assert ok(daemon.cli("logs", "bocker-run")) == "hello from bocker\n"
    ok(daemon.cli("rm", "bocker-run"))
    assert "bocker-run" not in ok(daemon.cli("ps", "-a"))


def test_bocker_exec(daemon, cleanup):
    """`bocker exec ID CMD` → `dockyard exec ID CMD` in a running container."""
    cleanup["containers"].append("bocker-exec")
    ok(daemon.cli("run", "-d", "--name", "bocker-exec", "busybox", "sleep", "300"))
    out = ok(daemon.cli("exec", "bocker-exec", "sh", "-c", "echo $((6 * 7)) && hostname"))
    first, host = out.splitlines()
    assert first == "42"
    inspect = ok(daemon.cli("inspect", "-f", "{{.Config.Hostname}}", "bocker-exec")).strip()
    assert host == inspect


def test_bocker_commit(daemon, cleanup):
    """`bocker commit CONTAINER IMG` → `dockyard commit CONTAINER IMG`."""
    cleanup["containers"].append("bocker-commit")
    cleanup["images"].append("bocker-committed:latest")
    ok(daemon.cli("run", "--name", "bocker-commit", "busybox",
                  "sh", "-c", "echo committed > /marker"))
    ok(daemon.cli("commit", "bocker-commit", "bocker-committed:latest"))
    assert ok(daemon.cli("run", "--rm", "bocker-committed", "cat", "/marker")) == "committed\n"
