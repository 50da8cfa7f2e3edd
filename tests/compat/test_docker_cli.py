"""The real docker CLI (28.x, /usr/local/bin/docker) against dockyardd, command area by
command area; each test backs a "works" in the README's compatibility table."""
import json
import os
import subprocess
import time
import uuid

import pytest

from tests.integration.registry.regserver import Registry

pytestmark = pytest.mark.root


def _n(p: str) -> str:
    return f"{p}-{uuid.uuid4().hex[:6]}"


@pytest.fixture
def names(daemon):
    made = []
    yield made
    for n in made:
        daemon.docker("rm", "-f", n)


def ok(r: subprocess.CompletedProcess) -> str:
    assert r.returncode == 0, r.stdout + r.stderr
    return r.stdout


def test_system_version_info_df(daemon):
    assert ok(daemon.docker("version", "--format", "{{.Server.Os}}")).strip() == "linux"
    assert "Server Version" in ok(daemon.docker("info"))
    assert "Images" in ok(daemon.docker("system", "df"))


def test_images_tag_inspect_history_rmi(daemon):
    t = _n("cli-tag")
    ok(daemon.docker("tag", "busybox", f"{t}:1"))
    assert f"{t}" in ok(daemon.docker("images", "--format", "{{.Repository}}:{{.Tag}}"))
    info = json.loads(ok(daemon.docker("image", "inspect", f"{t}:1")))[0]
    assert info["Id"].startswith("sha256:") and info["RootFS"]["Layers"]
    assert "IMAGE" in ok(daemon.docker("history", f"{t}:1"))
    assert f"Untagged: {t}:1" in ok(daemon.docker("rmi", f"{t}:1"))


def test_save_load_import(daemon, tmp_path, busybox_tar):
    tar = str(tmp_path / "s.tar")
    ok(daemon.docker("save", "-o", tar, "busybox"))
    assert "Loaded image: busybox:latest" in ok(daemon.docker("load", "-i", tar))
    t = _n("cli-imp")
    iid = ok(daemon.docker("import", "-c", "CMD [\"echo\", \"imported\"]", busybox_tar, t)).strip()
    assert iid.startswith("sha256:")
    assert ok(daemon.docker("run", "--rm", t)) == "imported\n"
    ok(daemon.docker("rmi", t))


def test_container_lifecycle_verbs(daemon, names):
    n = _n("cli-life")
    names.append(n)
    ok(daemon.docker("run", "-d", "--name", n, "-p", "127.0.0.1::80", "busybox",
                     "httpd", "-f", "-p", "80"))
    assert "httpd" in ok(daemon.docker("top", n))
    stats = ok(daemon.docker("stats", "--no-stream", "--format", "{{.Name}} {{.MemUsage}}", n))
    assert stats.startswith(n)
    port = ok(daemon.docker("port", n, "80")).strip()
    assert port.startswith("127.0.0.1:")
    ok(daemon.docker("pause", n))
    assert ok(daemon.docker("inspect", "-f", "{{.State.Status}}", n)).strip() == "paused"
    ok(daemon.docker("unpause", n))
    ok(daemon.docker("restart", "-t", "1", n))
    n2 = n + "-b"
    ok(daemon.docker("rename", n, n2))
    names.append(n2)
    ok(daemon.docker("kill", "-s", "KILL", n2))
    assert ok(daemon.docker("wait", n2)).strip() == "137"
    assert ok(daemon.docker("inspect", "-f", "{{.State.ExitCode}}", n2)).strip() == "137"
    assert n2 in ok(daemon.docker("ps", "-a", "--filter", f"name={n2}", "--format", "{{.Names}}"))
    assert ok(daemon.docker("diff", n2)) is not None
    out = subprocess.run(["docker", "export", n2], env=daemon.env, capture_output=True)
    assert out.returncode == 0 and len(out.stdout) > 100_000
    ok(daemon.docker("container", "prune", "-f"))


def test_attach_to_running_container(daemon, names):
    n = _n("cli-att")
    names.append(n)
    ok(daemon.docker("run", "-d", "--name", n, "busybox", "sh", "-c",
                     "sleep 1; echo attached-out; sleep 1"))
    r = daemon.docker("attach", n, timeout=30)
    assert "attached-out" in r.stdout


def test_networks_and_volumes(daemon, names):
    net, vol, srv = _n("cli-net"), _n("cli-vol"), _n("cli-srv")
    names.append(srv)
    ok(daemon.docker("network", "create", "--subnet", "10.213.7.0/24", "--ip-range",
                     "10.213.7.64/28", "--aux-address", "rtr=10.213.7.64", net))
    ok(daemon.docker("volume", "create", vol))
    try:
        ok(daemon.docker("run", "-d", "--name", srv, "--network", net, "--network-alias", "svc",
                         "-v", f"{vol}:/data", "busybox", "sh", "-c",
                         "echo vol-data > /data/f; exec httpd -f -p 80 -h /data"))
        out = ok(daemon.docker("run", "--rm", "--network", net, "busybox", "sh", "-c",
                               "for i in 1 2 3 4 5; do wget -qO- http://svc/f && exit 0; sleep 0.3; done; exit 1"))
        assert out == "vol-data\n"
        assert net in ok(daemon.docker("network", "ls", "--format", "{{.Name}}"))
        info = json.loads(ok(daemon.docker("network", "inspect", net)))[0]
        assert info["IPAM"]["Config"][0] == {
            "Subnet": "10.213.7.0/24", "IPRange": "10.213.7.64/28", "Gateway": "10.213.7.1",
            "AuxiliaryAddresses": {"rtr": "10.213.7.64"}}
        ip = ok(daemon.docker("inspect", "-f", "{{range .NetworkSettings.Networks}}"
                              "{{.IPAddress}}{{end}}", srv)).strip()
        assert ip == "10.213.7.65"  # from the range, past the reserved aux address
        assert vol in ok(daemon.docker("volume", "ls", "-q"))
        assert json.loads(ok(daemon.docker("volume", "inspect", vol)))[0]["Driver"] == "local"
    finally:
        daemon.docker("rm", "-f", srv)
        daemon.docker("network", "rm", net)
        daemon.docker("volume", "rm", vol)
    assert net not in ok(daemon.docker("network", "ls", "--format", "{{.Name}}"))


def test_events_since_until(daemon):
    since = str(int(time.time()) - 1)
    cid = ok(daemon.docker("run", "-d", "busybox", "true")).strip()
    ok(daemon.docker("wait", cid))
    ok(daemon.docker("rm", cid))
    out = ok(daemon.docker("events", "--since", since, "--until", str(int(time.time()) + 1),
                           "--filter", f"container={cid}", "--format", "{{.Action}}"))
    for action in ("create", "start", "die", "destroy"):
        assert action in out.split()


def test_build_with_docker_cli(daemon, tmp_path):
    ctx = tmp_path / "ctx"
    ctx.mkdir()
    (ctx / "Dockerfile").write_text("FROM busybox\nCOPY hello /hello\nCMD [\"cat\", \"/hello\"]\n")
    (ctx / "hello").write_text("built by docker CLI\n")
    t = _n("cli-build")
    out = ok(daemon.docker("build", "-t", t, str(ctx)))
    assert "Successfully tagged" in out
    assert ok(daemon.docker("run", "--rm", t)) == "built by docker CLI\n"
    ok(daemon.docker("rmi", t))


def test_pull_push_login_through_a_local_registry(daemon, tmp_path):
    reg = Registry(str(tmp_path / "reg"))
    try:
        ref = f"{reg.host}/cli/busybox:1"
        ok(daemon.docker("tag", "busybox", ref))
        out = ok(daemon.docker("push", ref))
        assert "digest: sha256:" in out
        ok(daemon.docker("rmi", ref))
        out = ok(daemon.docker("pull", ref))
        assert "Status: Downloaded newer image" in out or "Image is up to date" in out
        assert ok(daemon.docker("run", "--rm", ref, "echo", "pulled")) == "pulled\n"
        ok(daemon.docker("rmi", ref))
    finally:
        reg.stop()


def test_unreachable_registry_fails_fast_naming_the_host(daemon):
    start = time.monotonic()
    r = daemon.docker("pull", "127.0.0.1:1/nothing:1")
    assert r.returncode != 0 and "127.0.0.1:1" in r.stderr
    assert time.monotonic() - start < 30
