"""Images cross between dockyard and a real dockerd (Debian docker.io) through save/load,
with the same image ID and layer diff IDs on both sides."""
import json

import pytest

from tests.helpers import dockerd as real

pytestmark = pytest.mark.root


@pytest.fixture(scope="module")
def dockerd():
    if not real.available():
        pytest.skip("docker.io (dockerd) is not installed on this machine")
    d = real.Dockerd()
    try:
        yield d.start()
    finally:
        d.cleanup()


def _inspect(run, ref):
    return json.loads(run("image", "inspect", ref, check=True).stdout)[0]


def test_dockyard_save_loads_and_runs_in_dockerd(daemon, dockerd, tmp_path):
    tar = str(tmp_path / "bb.tar")
    daemon.cli("save", "-o", tar, "busybox:latest", check=True)
    out = dockerd.docker("load", "-i", tar, check=True).stdout
    assert "busybox:latest" in out
    assert dockerd.docker("run", "--rm", "--network", "none", "busybox:latest",
                          "sh", "-c", "echo ok", check=True).stdout == "ok\n"
    ours = daemon.client.get("/images/busybox:latest/json")
    theirs = _inspect(dockerd.docker, "busybox:latest")
    assert theirs["Id"] == ours["Id"]
    assert theirs["RootFS"]["Layers"] == ours["RootFS"]["Layers"]


def test_dockerd_save_loads_into_dockyard_with_same_ids(daemon, dockerd, tmp_path):
    df = tmp_path / "ctx"
    df.mkdir()
    (df / "Dockerfile").write_text("FROM busybox:latest\nRUN echo from-dockerd > /made\n")
    if "busybox:latest" not in dockerd.docker("images", "--format", "{{.Repository}}:{{.Tag}}").stdout:
        tar = str(tmp_path / "bb.tar")
        daemon.cli("save", "-o", tar, "busybox:latest", check=True)
        dockerd.docker("load", "-i", tar, check=True)
    dockerd.docker("build", "--network", "none", "-t", "interop:1", str(df), check=True)
    tar = str(tmp_path / "interop.tar")
    dockerd.docker("save", "-o", tar, "interop:1", check=True)
    theirs = _inspect(dockerd.docker, "interop:1")
    try:
        out = daemon.cli("load", "-i", tar, check=True).stdout
        assert "Loaded image: interop:1" in out
        ours = daemon.client.get("/images/interop:1/json")
        assert ours["Id"] == theirs["Id"]
        assert ours["RootFS"]["Layers"] == theirs["RootFS"]["Layers"]
        assert daemon.cli("run", "--rm", "interop:1", "cat", "/made").stdout == "from-dockerd\n"
    finally:
        daemon.cli("rmi", "-f", "interop:1")
