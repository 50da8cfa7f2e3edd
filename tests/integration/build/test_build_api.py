"""Builds through the Engine API: dockyard's CLI and the real docker CLI (POST /build)."""
import io
import json
import os
import shutil
import tarfile

import pytest

pytestmark = pytest.mark.root

EXAMPLE = os.path.join(os.path.dirname(__file__), "..", "..", "..", "examples", "team-documentation")
SEVEN_STEPS = """FROM busybox
LABEL maintainer="dockyard"
ADD site /var/www
WORKDIR /var/www
RUN echo built > /var/www/built.txt && echo run-says-hi
EXPOSE 8080
CMD ["httpd", "-f", "-p", "8080"]
"""


@pytest.fixture
def ctx(tmp_path):
    root = tmp_path / "ctx"
    (root / "site").mkdir(parents=True)
    (root / "site" / "index.html").write_text("<h1>hi</h1>\n")
    (root / "Dockerfile").write_text(SEVEN_STEPS)
    return root


def test_dockyard_cli_build_output(daemon, ctx, tmp_path):
    iid = tmp_path / "iid"
    r = daemon.cli("build", "-t", "site:1", "-t", "site:latest", "--iidfile", str(iid), str(ctx))
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[0] == "Step 1/7 : FROM busybox"
    assert lines[1].startswith(" ---> ") and len(lines[1]) == len(" ---> ") + 12
    assert "Step 5/7 : RUN echo built > /var/www/built.txt && echo run-says-hi" in lines
    assert "run-says-hi" in lines
    assert any(ln.startswith(" ---> Running in ") for ln in lines)
    assert any(ln.startswith("Removing intermediate container ") for ln in lines)
    assert lines[-3].startswith("Successfully built ")
    assert lines[-2:] == ["Successfully tagged site:1", "Successfully tagged site:latest"]
    image_id = iid.read_text()
    assert image_id.startswith("sha256:") and lines[-3].endswith(image_id[7:19])
    again = daemon.cli("build", "-q", str(ctx))
    assert again.returncode == 0 and again.stdout.strip() == image_id


def test_dockyard_cli_failure_exit_code_and_explain(daemon, ctx):
    (ctx / "Dockerfile").write_text("FROM busybox\nCOPY site /s\nRUN exit 7\n")
    r = daemon.cli("build", "-t", "fails:1", str(ctx))
    assert r.returncode == 7
    assert "The command '/bin/sh -c exit 7' returned a non-zero code: 7" in r.stderr
    (ctx / "site" / "index.html").write_text("changed\n")
    r = daemon.cli("build", "--explain-cache", str(ctx))
    assert "cache miss: file site/index.html changed" in r.stdout


def test_dockyard_cli_stdin_tar_and_dockerfile(daemon, ctx):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        tar.add(str(ctx), arcname=".")
    r = daemon.cli("build", "-t", "fromstdin:1", "-", input=buf.getvalue())
    assert r.returncode == 0, r.stderr
    r = daemon.cli("build", "-", input=b"FROM busybox\nENV ONLY=dockerfile\n")
    assert r.returncode == 0, r.stderr


def test_context_file_names_that_are_not_utf8(daemon, tmp_path):
    """A file name is bytes: one that is not UTF-8 reaches the image unchanged."""
    root = tmp_path / "ctx8"
    root.mkdir()
    with open(os.path.join(os.fsencode(root), b"caf\xe9.txt"), "wb") as f:
        f.write(b"latin1\n")
    (root / "Dockerfile").write_text("FROM busybox\nCOPY . /x/\n")
    r = daemon.cli("build", "-t", "ctx8:1", str(root))
    assert r.returncode == 0, r.stdout + r.stderr
    try:
        out = daemon.cli("run", "--rm", "ctx8:1", "sh", "-c",
                         'for f in /x/caf*; do printf "%s" "$f" | od -An -tx1; cat "$f"; done',
                         check=True).stdout
        assert out.split() == ["2f", "78", "2f", "63", "61", "66", "e9", "2e", "74", "78", "74",
                               "latin1"]
    finally:
        daemon.cli("rmi", "ctx8:1")


def test_bad_dockerfile_over_api(daemon, tmp_path):
    ctx = tmp_path / "talk"
    shutil.copytree(EXAMPLE, ctx)
    r = daemon.cli("build", "-f", str(ctx / "Dockerfile.talk-verbatim"), "-t", "talk:bad", str(ctx))
    assert r.returncode == 1
    errs = r.stderr.strip().splitlines()
    assert len(errs) == 6 and all("comments must start the line" in e for e in errs)
    images = daemon.client.get("/images/json")
    assert not any("talk:bad" in (i.get("RepoTags") or []) for i in images)


def test_build_prune(daemon):
    out = daemon.client.post("/build/prune")
    assert "CachesDeleted" in out and out["SpaceReclaimed"] == 0


@pytest.mark.skipif(not shutil.which("docker"), reason="docker CLI not installed")
def test_real_docker_cli_builds(daemon, ctx):
    r = daemon.docker("build", "-t", "viadocker:1", "--build-arg", "X=1", str(ctx))
    assert r.returncode == 0, r.stderr + r.stdout
    assert "Step 1/7 : FROM busybox" in r.stdout
    assert "Successfully tagged viadocker:1" in r.stdout
    insp = json.loads(daemon.docker("image", "inspect", "viadocker:1").stdout)
    assert insp[0]["Config"]["ExposedPorts"] == {"8080/tcp": {}}
    (ctx / "Dockerfile").write_text("FROM busybox\nRUN false\n")
    r = daemon.docker("build", str(ctx))
    assert r.returncode == 1
    assert "The command '/bin/sh -c false' returned a non-zero code: 1" in r.stderr


@pytest.mark.skipif(not shutil.which("docker"), reason="docker CLI not installed")
def test_real_docker_cli_stdin_dockerfile_and_outside_file(daemon, ctx, tmp_path):
    r = daemon.docker("build", "-q", "-", input="FROM busybox\nENV FROM_STDIN=1\n")
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip().startswith("sha256:")
    other = tmp_path / "Other.Dockerfile"
    other.write_text("FROM busybox\nCOPY site/index.html /i.html\n")
    r = daemon.docker("build", "-f", str(other), "-t", "outside:1", str(ctx))
    assert r.returncode == 0, r.stderr + r.stdout
    assert "Successfully tagged outside:1" in r.stdout


def test_docker_py_builds(daemon, ctx):
    docker = pytest.importorskip("docker")
    client = docker.DockerClient(base_url=daemon.host)
    try:
        image, logs = client.images.build(path=str(ctx), tag="dockerpy:1", buildargs={"X": "1"},
                                          labels={"via": "docker-py"}, rm=True)
        assert image.id.startswith("sha256:") and "dockerpy:1" in image.tags
        assert image.labels["via"] == "docker-py"
        assert any("Step 1/8 : FROM busybox" in (entry.get("stream") or "") for entry in logs)
        with pytest.raises(docker.errors.BuildError, match="returned a non-zero code: 4"):
            client.images.build(fileobj=__import__("io").BytesIO(b"FROM busybox\nRUN exit 4\n"))
    finally:
        client.close()
