"""Images through a real dockyardd: the real docker CLI and dockyard's CLI, side by side.

Each test tags what it makes with a unique name and removes it, so the shared daemon
(with ``busybox:latest``) stays as it was.
"""
from __future__ import annotations

import json
import os
import subprocess
import tarfile
import uuid

import pytest

pytestmark = pytest.mark.root
DOCKER = "/usr/local/bin/docker"


def _name(prefix="img"):
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


@pytest.fixture
def cleanup(daemon):
    names = []
    yield names
    for n in names:
        daemon.cli("rmi", "-f", n)


def test_docker_images_and_inspect_fields(daemon):
    out = daemon.docker("images", check=True).stdout.splitlines()
    assert out[0].split() == ["REPOSITORY", "TAG", "IMAGE", "ID", "CREATED", "SIZE"]
    assert any(line.split()[:2] == ["busybox", "latest"] for line in out[1:])
    info = json.loads(daemon.docker("image", "inspect", "busybox", check=True).stdout)[0]
    for key in ("Id", "RepoTags", "RepoDigests", "Created", "Config", "Architecture", "Os",
                "Size", "RootFS"):
        assert key in info
    assert info["RootFS"]["Type"] == "layers" and "busybox:latest" in info["RepoTags"]
    fmt = daemon.docker("images", "--format", "{{.Repository}}:{{.Tag}}", check=True).stdout
    assert "busybox:latest" in fmt.split()


def test_docker_tag_rmi_untag_vs_delete(daemon, cleanup):
    name = _name()
    cleanup.append(f"{name}:1")
    daemon.docker("tag", "busybox", f"{name}:1", check=True)
    daemon.docker("tag", "busybox", f"localhost:5000/{name}:2", check=True)
    r = daemon.docker("rmi", f"localhost:5000/{name}:2", check=True)
    assert r.stdout.strip() == f"Untagged: localhost:5000/{name}:2"
    r = daemon.docker("rmi", f"{name}:1", check=True)
    assert r.stdout.strip() == f"Untagged: {name}:1"  # busybox still names the image
    r = daemon.docker("rmi", "no-such-image-xyz")
    assert r.returncode == 1 and "No such image: no-such-image-xyz" in r.stderr


def test_docker_import_with_change_and_history(daemon, busybox_tar, cleanup):
    name = _name()
    cleanup.append(name)
    r = daemon.docker("import", "--change", 'CMD ["sh"]', "-m", "from test", busybox_tar, name,
                      check=True)
    assert r.stdout.strip().startswith("sha256:")
    cmd = daemon.docker("image", "inspect", "-f", "{{json .Config.Cmd}}", name, check=True).stdout
    assert json.loads(cmd) == ["sh"]
    # the template json function prints as the docker CLI's (compact, <>& and é as is)
    daemon.docker("image", "tag", name, name + ":j", check=True)
    cleanup.append(name + ":j")
    for fmt in ("{{json .Config.Cmd}}", "{{json .RepoTags}}", '{{json "a<b>&c é"}}'):
        ours = daemon.cli("image", "inspect", "-f", fmt, name, check=True).stdout
        assert ours == daemon.docker("image", "inspect", "-f", fmt, name, check=True).stdout
    hist = daemon.docker("history", name, check=True).stdout.splitlines()
    assert hist[0].split()[:2] == ["IMAGE", "CREATED"] and "from test" in hist[1]


def test_docker_save_load_round_trip(daemon, busybox_tar, cleanup, tmp_path):
    name = _name()
    cleanup.append(name)
    daemon.docker("import", busybox_tar, name, check=True)
    before = json.loads(daemon.docker("image", "inspect", name, check=True).stdout)[0]
    daemon.docker("save", "-o", str(tmp_path / "s.tar"), name, check=True)
    names = tarfile.open(tmp_path / "s.tar").getnames()
    assert "manifest.json" in names and "repositories" in names
    daemon.docker("rmi", name, check=True)
    r = daemon.docker("load", "-i", str(tmp_path / "s.tar"), check=True)
    assert f"Loaded image: {name}:latest" in r.stdout
    after = json.loads(daemon.docker("image", "inspect", name, check=True).stdout)[0]
    assert after["Id"] == before["Id"] and after["RootFS"] == before["RootFS"]


def test_dockyard_cli_import_directory_and_oci_save(daemon, tmp_path, cleanup):
    name = _name("dir")
    cleanup.append(name)
    (tmp_path / "root/etc").mkdir(parents=True)
    (tmp_path / "root/etc/hello").write_text("hi\n")
    r = daemon.cli("import", "-c", "WORKDIR /etc", str(tmp_path / "root"), name)
    assert r.returncode == 0, r.stderr
    rows = daemon.cli("images", name).stdout.splitlines()
    assert len(rows) == 2 and rows[1].split()[:2] == [name, "latest"]
    r = daemon.cli("save", "--format", "oci-archive", "-o", str(tmp_path / "o.tar"), name)
    assert r.returncode == 0, r.stderr
    assert {"oci-layout", "index.json", "manifest.json"} <= set(tarfile.open(tmp_path / "o.tar").getnames())
    daemon.cli("rmi", name, check=True)
    r = daemon.cli("load", "-i", str(tmp_path / "o.tar"))
    assert r.returncode == 0 and f"Loaded image: {name}:latest" in r.stdout


@pytest.mark.parametrize("content,what", [(b"definitely not a tar" * 100, "not a valid tar"),
                                          (None, "not an image archive")])
def test_bad_load_is_one_line_and_exit_1(daemon, tmp_path, content, what):
    path = tmp_path / "bad.tar"
    if content is None:
        with tarfile.open(path, "w") as tf:
            tf.add(__file__, "hello.py")
    else:
        path.write_bytes(content)
    before = daemon.client.get("/images/json", {"all": 1})
    for run in (daemon.cli, daemon.docker):
        r = run("load", "-i", str(path))
        assert r.returncode == 1 and what in r.stderr and len(r.stderr.strip().splitlines()) == 1
    assert daemon.client.get("/images/json", {"all": 1}) == before


def test_bad_names_are_refused(daemon):
    r = daemon.cli("tag", "busybox", "Bad/Name")
    assert r.returncode == 1 and "must be lowercase" in r.stderr
    r = daemon.docker("tag", "busybox", "bad name")
    assert r.returncode != 0


def test_system_df_and_prune(daemon, busybox_tar, cleanup):
    r = daemon.docker("system", "df", check=True)
    assert r.stdout.splitlines()[1].split()[0] == "Images"
    name = _name("dangle")
    label = f"LABEL test={name}"
    first = daemon.docker("import", "-c", label, busybox_tar, name, check=True).stdout.strip()
    daemon.docker("import", "-c", label, "-c", "CMD true", busybox_tar, name, check=True)
    dangling = daemon.docker("images", "-q", "--no-trunc", "--filter", "dangling=true",
                             check=True).stdout.split()
    assert first in dangling  # the tag moved to the second import
    # prune only what this test made (the daemon is shared)
    r = daemon.cli("image", "prune", "-f", "--filter", f"label=test={name}")
    assert r.returncode == 0 and f"deleted: {first}" in r.stdout and "Total reclaimed space" in r.stdout
    assert first not in daemon.docker("images", "-q", "--no-trunc", "-a").stdout.split()
    cleanup.append(name)


def test_system_df_lists_top_images_only(daemon, cleanup):
    """A build's step images are not in system df (dockerd lists top images there)."""
    name = _name("dfstep")
    cleanup.append(name)
    r = daemon.cli("build", "-t", name, "-", input="FROM busybox\nRUN echo a > /a\n"
                   f"RUN echo {name} > /b\n", check=True)
    top = daemon.client.get(f"/images/{name}/json")
    steps, parent = set(), top["Parent"]  # this build's step images, up to busybox
    while parent and not daemon.client.get(f"/images/{parent}/json")["RepoTags"]:
        steps.add(parent)
        parent = daemon.client.get(f"/images/{parent}/json")["Parent"]
    listed = {i["Id"] for i in daemon.client.get("/system/df")["Images"]}
    assert top["Id"] in listed and steps and not steps & listed, r.stdout
