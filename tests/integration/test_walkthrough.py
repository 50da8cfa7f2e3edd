"""The talk's walk-through against a real daemon (scripts/walkthrough.sh's steps).

CI must not download Debian packages on every run, so the main walk-through uses
a Dockerfile shaped like the talk's (FROM, MAINTAINER, ADD, WORKDIR, RUN, EXPOSE,
CMD) with busybox standing in for node: ``busybox httpd`` plays ``npm start``.
The talk's own example (the node image) runs too when its rootfs is cached.
"""
from __future__ import annotations

import os
import re
import socket
import subprocess
import time
import urllib.request

import pytest

pytestmark = pytest.mark.root

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
EXAMPLE = os.path.join(REPO, "examples", "team-documentation")
IMAGE = "walkthrough-team-documentation"

DOCKERFILE = """\
# The talk's Dockerfile, with busybox standing in for node.
FROM        busybox
MAINTAINER  Spencer Scorcelletti <spencer.scorcelletti@salesforce.com>
# add our source code
ADD         ./team-documentation /code
# establish a working directory
WORKDIR     /code
# "install dependencies": assemble the page the server serves
RUN         cat header.html pages/*.html > index.html
EXPOSE      3000
CMD         busybox httpd -f -p 3000
"""


def write_context(root) -> str:
    """The build context: the Dockerfile and a team-documentation source dir."""
    src = root / "team-documentation"
    (src / "pages").mkdir(parents=True)
    (root / "Dockerfile").write_text(DOCKERFILE)
    (src / "header.html").write_text("<h1>Team documentation</h1>\n")
    (src / "pages" / "1-on-call.html").write_text("<p>On-call: page within 15 minutes.</p>\n")
    (src / "pages" / "2-releases.html").write_text("<p>Releases: every Tuesday.</p>\n")
    return str(root)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def fetch(url: str, attempts: int = 300) -> str:
    """GET url, retrying while the server in the container starts up."""
    last: Exception | None = None
    for _ in range(attempts):
        try:
            with urllib.request.urlopen(url, timeout=5) as resp:
                return resp.read().decode()
        except OSError as e:
            last = e
            time.sleep(0.1)
    raise AssertionError(f"nothing answered on {url}: {last}")


def ok(result: subprocess.CompletedProcess) -> str:
    assert result.returncode == 0, f"exit {result.returncode}\n{result.stdout}\n{result.stderr}"
    return result.stdout


def built_id(output: str) -> str:
    m = re.search(r"^Successfully built ([0-9a-f]{12})$", output, re.M)
    assert m, f"no 'Successfully built' line in:\n{output}"
    return m.group(1)


@pytest.fixture(scope="module")
def build(daemon, tmp_path_factory):
    """Build the talk-shaped image once; remove it afterwards."""
    ctx = write_context(tmp_path_factory.mktemp("walkthrough"))
    try:
        yield ctx, ok(daemon.cli("build", "-t", IMAGE, ctx))
    finally:
        daemon.cli("rmi", "-f", IMAGE)


def test_build_prints_the_talks_steps(build):
    _, out = build
    lines = out.splitlines()
    for n, instr in enumerate(["FROM busybox", "MAINTAINER Spencer Scorcelletti",
                               "ADD ./team-documentation /code", "WORKDIR /code",
                               "RUN cat header.html pages/*.html > index.html",
                               "EXPOSE 3000", "CMD busybox httpd -f -p 3000"], 1):
        assert any(line.startswith(f"Step {n}/7 : {instr}") for line in lines), out
    assert re.search(r"^ ---> Running in [0-9a-f]{12}$", out, re.M), out
    assert re.search(r"^Removing intermediate container [0-9a-f]{12}$", out, re.M), out
    built_id(out)
    assert f"Successfully tagged {IMAGE}:latest" in lines, out


def test_rebuild_is_all_cache_hits(daemon, build):
    ctx, first = build
    again = ok(daemon.cli("build", "-t", IMAGE, ctx))
    # Every step after FROM comes from the cache, and the result is the same image.
    assert again.count(" ---> Using cache") == 6, again
    assert "Running in" not in again, again
    assert built_id(again) == built_id(first)


def test_images_lists_the_image(daemon, build):
    out = ok(daemon.cli("images"))
    header, *rows = out.splitlines()
    assert header.split() == ["REPOSITORY", "TAG", "IMAGE", "ID", "CREATED", "SIZE"], out
    image_id = built_id(build[1])
    assert any(r.split()[:3] == [IMAGE, "latest", image_id] for r in rows), out


def test_run_publishes_the_page_and_ps_shows_it(daemon, build):
    port = free_port()
    cid = ok(daemon.cli("run", "-d", "-p", f"{port}:3000", IMAGE)).strip()
    try:
        assert re.fullmatch(r"[0-9a-f]{64}", cid), cid
        page = fetch(f"http://127.0.0.1:{port}/")
        assert page.startswith("<h1>Team documentation</h1>"), page
        assert "Releases: every Tuesday." in page, page
        ps = ok(daemon.cli("ps"))
        row = next((r for r in ps.splitlines() if r.startswith(cid[:12])), None)
        assert row, ps
        assert IMAGE in row and " Up " in row, ps
        assert f"0.0.0.0:{port}->3000/tcp" in row, ps
    finally:
        ok(daemon.cli("rm", "-f", cid))
    assert cid[:12] not in ok(daemon.cli("ps", "-a"))


def test_rmi_removes_the_image(daemon, tmp_path):
    """The walk-through's clean-up end: a second tag of the image comes and goes."""
    ctx = write_context(tmp_path)
    ok(daemon.cli("build", "-t", "walkthrough-rmi", ctx))
    ok(daemon.cli("rmi", "walkthrough-rmi"))
    assert "walkthrough-rmi" not in ok(daemon.cli("images"))
    assert daemon.cli("image", "inspect", "walkthrough-rmi").returncode != 0


def test_talk_dockerfile_verbatim_names_each_inline_comment(daemon):
    """The talk's text as is: a clear error per inline comment, nothing tagged."""
    r = daemon.cli("build", "-t", "talk-verbatim", "-f",
                   os.path.join(EXAMPLE, "Dockerfile.talk-verbatim"), EXAMPLE)
    text = r.stdout + r.stderr
    assert r.returncode == 1, text
    for line, comment in [(1, "# base image to use"), (6, "# export port 3000")]:
        assert re.search(rf"Dockerfile\.talk-verbatim:{line}\b", text), text
        assert comment in text, text
    assert "comment" in text.lower(), text
    assert daemon.cli("image", "inspect", "talk-verbatim").returncode != 0


def node_rootfs() -> str | None:
    """The rootfs tar scripts/make-node-image.sh caches, if it is there."""
    for d in (os.environ.get("DOCKYARD_CACHE"), "/var/cache/dockyard",
              os.path.expanduser("~/.cache/dockyard")):
        if d and os.path.exists(os.path.join(d, "node-bookworm-minbase.tar.xz")):
            return os.path.join(d, "node-bookworm-minbase.tar.xz")
    return None


@pytest.mark.slow
def test_the_talks_example_with_node(daemon):
    """The real thing: node:latest from the cached Debian rootfs, the cleaned Dockerfile."""
    if not node_rootfs():
        pytest.skip("the node rootfs is not cached: scripts/make-node-image.sh --rootfs-only "
                    "downloads it from Debian's mirror once (about 2 minutes)")
    env = dict(daemon.env, DOCKYARD=os.path.join(REPO, ".venv", "bin", "dockyard"))
    cid = ""
    try:
        made = subprocess.run([os.path.join(REPO, "scripts", "make-node-image.sh")], env=env,
                              capture_output=True, text=True, timeout=900)
        assert made.returncode == 0, made.stderr
        out = ok(daemon.cli("build", "-t", "team-documentation", EXAMPLE, timeout=900))
        assert "Step 5/7 : RUN npm install" in out, out
        port = free_port()
        cid = ok(daemon.cli("run", "-d", "-p", f"{port}:3000", "team-documentation")).strip()
        page = fetch(f"http://127.0.0.1:{port}/", attempts=600)
        assert "<h1>Team documentation</h1>" in page, page
        assert cid[:12] in ok(daemon.cli("ps"))
    finally:
        if cid:
            daemon.cli("rm", "-f", cid)
        daemon.cli("rmi", "-f", "team-documentation")
        daemon.cli("rmi", "-f", "node:latest")
