"""Bad Dockerfiles and contexts: file:line, what is wrong, nothing tagged."""
import http.server
import os
import threading

import pytest

from dockyard.errors import NotFound
from tests.integration.build.conftest import read_in_image

pytestmark = pytest.mark.root

TALK_VERBATIM = os.path.join(os.path.dirname(__file__), "..", "..", "..", "examples",
                             "team-documentation", "Dockerfile.talk-verbatim")


def assert_not_tagged(engine, ref):
    with pytest.raises(NotFound):
        engine.images.get(ref)


def test_talk_verbatim_dockerfile_is_refused(build, engine):
    with open(TALK_VERBATIM) as f:
        text = f.read()
    r = build(text, tags=["bad:talk"])
    lines = str(r.error).splitlines()
    assert len(lines) == 6
    assert lines[0] == ("Dockerfile:1: inline comment '# base image to use' after FROM: "
                        "comments must start the line (move it to its own line starting with #)")
    assert [ln.split(":")[1] for ln in lines] == ["1", "3", "4", "5", "6", "7"]
    assert not r.messages  # refused before any step ran
    assert_not_tagged(engine, "bad:talk")


@pytest.mark.parametrize("dockerfile,files,msg", [
    ("FROM busybox\nCOPY ../x /x\n", {}, "Dockerfile:2: COPY source ../x is outside the build context"),
    ("FROM busybox\nCOPY missing /x\n", {}, "Dockerfile:2: COPY source missing not found in the build context"),
    ("FROM busybox\nCOPY link /x\n", {"@link": "/etc"},
     "Dockerfile:2: COPY source link is a symlink pointing outside the build context"),
    ("FROM busybox\nCOPY sub/../../x /x\n", {}, "outside the build context"),
    ("FROM busybox\nFROB x\n", {}, "Dockerfile:2: unknown instruction: FROB"),
    ("FROM busybox\nCMD [\"a\",]\n", {}, "Dockerfile:2: invalid JSON form"),
    ("FROM busybox\nARG a-b=1\n", {}, "Dockerfile:2: invalid ARG 'a-b=1'"),
    ("FROM busybox\nRUN true\nFROM nostage\n", {}, "Dockerfile:3: FROM nostage"),
    ("FROM busybox\nCOPY --from=nope /a /b\n", {}, "Dockerfile:2: --from=nope: unknown stage 'nope'"),
    ("FROM busybox\nCOPY a b /notadir\n", {"a": "", "b": ""}, "the destination must be a directory and end with a /"),
    ("FROM busybox\nCOPY --chown=ghost f /f\n", {"f": ""}, "unable to find user ghost"),
    ("FROM busybox\nENV X=\"${Y:?Y is required}\"\n", {}, "Dockerfile:2: Y: Y is required"),
])
def test_bad_input(build, engine, dockerfile, files, msg):
    links = {k[1:]: v for k, v in files.items() if k.startswith("@")}
    r = build(dockerfile, {k: v for k, v in files.items() if not k.startswith("@")}, tags=["bad:x"])
    for name, target in links.items():
        path = build.ctx / name
        if not os.path.lexists(path):
            os.symlink(target, path)
            r = build(dockerfile, tags=["bad:x"])
    assert r.error is not None and msg in str(r.error), str(r.error)
    assert_not_tagged(engine, "bad:x")


class _Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802 - http.server's naming
        body = b"fetched over http\n"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Last-Modified", "Wed, 21 Oct 2015 07:28:00 GMT")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def http_url():
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    try:
        yield f"http://127.0.0.1:{srv.server_address[1]}"
    finally:
        srv.shutdown()
        srv.server_close()


def test_add_url(build, engine, http_url):
    r = build(f"FROM busybox\nADD {http_url}/files/remote.txt /dl/\n")
    assert r.error is None, r.error
    assert read_in_image(engine, r.image_id, "/dl/remote.txt") == b"fetched over http\n"


def test_add_unreachable_url(build, http_url):
    import glob
    port = http_url.rsplit(":", 1)[1]
    before = set(glob.glob("/tmp/dockyard-add-*"))
    r = build("FROM busybox\nADD http://127.0.0.1:1/x /x\n")
    assert "Dockerfile:2: ADD http://127.0.0.1:1/x: cannot fetch the URL" in str(r.error)
    assert port
    assert set(glob.glob("/tmp/dockyard-add-*")) <= before  # the download dir went too
