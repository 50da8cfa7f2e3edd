"""Pull, push and login through a real dockyardd: dockyard's CLI, docker's CLI, skopeo.

Each test uses a registry of its own on 127.0.0.1 and a DOCKER_CONFIG in tmp_path, so
the host's ~/.docker/config.json is never touched.
"""
from __future__ import annotations

import json
import subprocess

import pytest

from tests.helpers.daemon import dockyard_bin

pytestmark = pytest.mark.root


@pytest.fixture
def env(daemon, tmp_path):
    return dict(daemon.env, DOCKER_CONFIG=str(tmp_path / "docker-config"))


def run(env, *args, input=None, tool=None):
    cmd = [tool or dockyard_bin("dockyard"), *args]
    return subprocess.run(cmd, env=env, capture_output=True, text=True, input=input, timeout=120)


def ok(p):
    assert p.returncode == 0, f"exit {p.returncode}\nstdout: {p.stdout}\nstderr: {p.stderr}"
    return p.stdout


def test_dockyard_push_pull_round_trip(daemon, registry, env):
    name = f"{registry.host}/tests/bb:1"
    ok(run(env, "tag", "busybox:latest", name))
    out = ok(run(env, "push", name))
    assert f"The push refers to repository [{registry.host}/tests/bb]" in out
    assert "Pushed" in out and "1: digest: sha256:" in out
    ok(run(env, "rmi", name))
    out = ok(run(env, "pull", name))
    assert "1: Pulling from tests/bb" in out
    assert f"Status: Downloaded newer image for {name}" in out and out.endswith(f"{name}\n")
    assert "Pull complete" in out or "Already exists" in out
    out = ok(run(env, "pull", name))
    assert f"Status: Image is up to date for {name}" in out
    inspect = json.loads(ok(run(env, "image", "inspect", name)))
    assert any(d.startswith(f"{registry.host}/tests/bb@sha256:") for d in inspect[0]["RepoDigests"])


@pytest.mark.parametrize("tool", ["dockyard", "docker"])
def test_push_all_tags(daemon, registry, env, tool):
    repo = f"{registry.host}/all/{tool}"
    for tag in ("a", "b"):
        ok(run(env, "tag", "busybox:latest", f"{repo}:{tag}"))
    try:
        bad = run(env, "push", "--all-tags", f"{repo}:a")
        assert bad.returncode != 0 and "--all-tags" in bad.stderr
        out = ok(run(env, "push", "--all-tags", repo,
                     tool=None if tool == "dockyard" else "docker"))
        assert out.count("The push refers to repository") == 1, out
        assert "a: digest: sha256:" in out and "b: digest: sha256:" in out, out
        tags = json.loads(subprocess.run(
            ["curl", "-s", f"http://{registry.host}/v2/all/{tool}/tags/list"],
            capture_output=True, text=True, timeout=30).stdout)["tags"]
        assert sorted(tags) == ["a", "b"]
        missing = run(env, "push", "--all-tags", f"{registry.host}/all/none")
        assert missing.returncode == 1 and "does not exist locally" in missing.stderr
    finally:
        run(env, "rmi", f"{repo}:a", f"{repo}:b")


def test_docker_cli_push_and_pull(daemon, registry, env):
    name = f"{registry.host}/docker/bb:2"
    ok(run(env, "tag", "busybox:latest", name))
    out = ok(run(env, "push", name, tool="docker"))
    assert "2: digest: sha256:" in out
    ok(run(env, "rmi", name, tool="docker"))
    out = ok(run(env, "pull", name, tool="docker"))
    assert "Downloaded newer image" in out
    dist = daemon.client.get(f"/distribution/{name}/json")
    assert dist["Descriptor"]["digest"].startswith("sha256:")
    assert dist["Platforms"][0]["os"] == "linux"


def test_login_push_logout(daemon, tls_registry, env, tmp_path):
    host = tls_registry.host
    bad = run(env, "login", "-u", "alice", "--password-stdin", host, input="wrong\n")
    assert bad.returncode == 1 and "incorrect username or password" in bad.stderr
    out = ok(run(env, "login", "-u", "alice", "--password-stdin", host, input="s3cret\n"))
    assert "Login Succeeded" in out
    cfg = json.loads((tmp_path / "docker-config" / "config.json").read_text())
    assert host in cfg["auths"]
    ok(run(env, "tag", "busybox:latest", f"{host}/private/bb:1"))
    ok(run(env, "push", f"{host}/private/bb:1"))
    ok(run(env, "logout", host))
    denied = run(env, "pull", f"{host}/private/bb:1")
    assert denied.returncode == 1 and "authentication required" in denied.stderr
    out = ok(run(env, "login", "-u", "alice", "--password-stdin", host, input="s3cret\n",
                 tool="docker"))
    assert "Login Succeeded" in out


def test_unreachable_registry_fails_with_the_host_named(daemon, env):
    p = run(env, "pull", "node")
    assert p.returncode == 1
    assert "registry-1.docker.io" in p.stderr and "lookup failed" in p.stderr
    assert "node" not in ok(run(env, "images", "--format", "{{.Repository}}"))


def test_unknown_tag_is_one_clear_line(daemon, registry, env):
    p = run(env, "pull", f"{registry.host}/nothing/here:nope")
    assert p.returncode == 1
    assert p.stderr.strip().count("\n") == 0 and "not found" in p.stderr


@pytest.mark.parametrize("compression", ["gzip", "zstd"])
def test_skopeo_pushed_image_is_pulled_and_runs(daemon, registry, env, busybox_tar, compression):
    name = f"{registry.host}/skopeo/bb:{compression}"
    subprocess.run(["skopeo", "copy", "-q", "--dest-tls-verify=false", "--format", "oci",
                    "--dest-compress-format", compression,
                    f"tarball:{busybox_tar}", f"docker://{name}"], check=True,
                   capture_output=True)
    raw = json.loads(subprocess.run(["skopeo", "inspect", "--raw", "--tls-verify=false",
                                     f"docker://{name}"], check=True,
                                    capture_output=True).stdout)
    assert raw["layers"][0]["mediaType"].endswith(compression)
    ok(run(env, "pull", name))
    out = ok(run(env, "run", "--rm", name, "/bin/busybox", "echo", "pulled-and-ran"))
    assert "pulled-and-ran" in out


def test_pull_by_digest_quiet_and_all_tags(daemon, registry, env):
    repo = f"{registry.host}/tests/multi"
    for tag in ("a", "b"):
        ok(run(env, "tag", "busybox:latest", f"{repo}:{tag}"))
        ok(run(env, "push", "-q", f"{repo}:{tag}"))
    digests = json.loads(ok(run(env, "image", "inspect", f"{repo}:a")))[0]["RepoDigests"]
    digest = next(d for d in digests if d.startswith(repo + "@"))   # the shared image has more
    ok(run(env, "rmi", f"{repo}:a", f"{repo}:b"))
    assert ok(run(env, "pull", "-q", digest)) == f"{digest}\n"
    out = ok(run(env, "pull", "-a", repo))
    assert "a: Pulling from tests/multi" in out and "b: Pulling from tests/multi" in out
    tags = ok(run(env, "images", "--format", "{{.Tag}}", repo)).split()
    assert sorted(t for t in tags if t != "<none>") == ["a", "b"]


def test_search_says_it_is_not_supported(daemon, env):
    p = run(env, "search", "node")
    assert p.returncode == 1 and "search is not supported" in p.stderr


def test_push_errors_are_one_clear_line(daemon, registry, env):
    p = run(env, "push", f"{registry.host}/not/here:1")
    assert p.returncode == 1
    assert "An image does not exist locally with the tag: " + f"{registry.host}/not/here" in p.stderr
    from tests.integration.registry.regserver import free_port
    gone = f"127.0.0.1:{free_port()}/x/bb:1"
    ok(run(env, "tag", "busybox:latest", gone))
    p = run(env, "push", gone)
    assert p.returncode == 1 and f"cannot reach registry {gone.split('/')[0]}" in p.stderr
    assert len(p.stderr.strip().splitlines()) == 1


def _unique_image_tar(path) -> str:
    """A one-file rootfs tar of compressible text no other test has."""
    import base64
    import io
    import os
    import tarfile
    data = base64.b64encode(os.urandom(1_500_000))
    with tarfile.open(path, "w") as tf:
        ti = tarfile.TarInfo("data.txt")
        ti.size = len(data)
        tf.addfile(ti, io.BytesIO(data))
    return str(path)


@pytest.mark.parametrize("mode", ["corrupt", "cut"])
def test_bad_transfer_leaves_no_image_and_a_retry_works(daemon, fresh_daemon, registry, env,
                                                        mode, tmp_path):
    from tests.integration.registry.regserver import Proxy
    src = f"{registry.host}/bad/bb:{mode}"
    ok(run(env, "import", _unique_image_tar(tmp_path / "u.tar"), src))
    ok(run(env, "push", src))
    env2 = dict(fresh_daemon.env, DOCKER_CONFIG=env["DOCKER_CONFIG"])
    # the daemon tries a cut download 5 times: cut them all, then let the retry through
    proxy = Proxy(registry.port, mode, times=1 if mode == "corrupt" else 5)
    try:
        name = f"{proxy.host}/bad/bb:{mode}"
        p = run(env2, "pull", name)
        assert p.returncode == 1, p.stdout
        want = "verification failed" if mode == "corrupt" else "broke after"
        assert want in p.stderr and len(p.stderr.strip().splitlines()) == 1
        assert name not in ok(run(env2, "images", "--format", "{{.Repository}}:{{.Tag}}"))
        out = ok(run(env2, "pull", name))
        assert "Downloaded newer image" in out
    finally:
        proxy.stop()
