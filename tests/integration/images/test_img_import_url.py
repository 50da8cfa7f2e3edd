"""docker import URL: the daemon fetches the tarball over HTTP (a server on loopback)."""
from __future__ import annotations

import http.server
import threading

import pytest

from dockyard.errors import DockyardError, InvalidArgument
from tests.integration.images.test_img_store import _store_state

pytestmark = pytest.mark.root


@pytest.fixture
def http_tar(busybox_tar):
    """http://127.0.0.1:PORT/ serving the busybox tar at /bb.tar, a cut one at /cut.tar."""
    data = open(busybox_tar, "rb").read()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            if self.path not in ("/bb.tar", "/cut.tar"):
                self.send_error(404)
                return
            self.send_response(200)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data if self.path == "/bb.tar" else data[: len(data) // 2])

        def log_message(self, *args):
            pass

    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{srv.server_address[1]}"
    finally:
        srv.shutdown()
        srv.server_close()


def test_import_from_url(engine, http_tar):
    image_id = engine.images.import_url(http_tar + "/bb.tar", "fromurl:1", ['CMD ["sh"]'])
    assert engine.images.get("fromurl:1").id == image_id
    [top] = engine.images.history("fromurl:1")
    assert top["Comment"] == f"Imported from {http_tar}/bb.tar"


def test_bad_urls_leave_nothing(engine, http_tar):
    before = _store_state(engine)
    with pytest.raises(DockyardError, match="answered 404"):
        engine.images.import_url(http_tar + "/missing.tar", "x:1")
    with pytest.raises(DockyardError, match="cannot fetch the URL"):
        engine.images.import_url("http://127.0.0.1:1/bb.tar", "x:1")
    with pytest.raises(InvalidArgument, match="only http:// and https://"):
        engine.images.import_url("ftp://127.0.0.1/bb.tar", "x:1")
    with pytest.raises(DockyardError):  # the server closes half-way through the body
        engine.images.import_url(http_tar + "/cut.tar", "x:1")
    assert _store_state(engine) == before


def test_cli_and_docker_cli_import_url(daemon, http_tar):
    out = daemon.cli("import", "-c", "CMD [\"sh\"]", http_tar + "/bb.tar", "cliurl:1",
                     check=True).stdout.strip()
    assert out.startswith("sha256:")
    assert daemon.cli("run", "--rm", "cliurl:1", "echo", "ok", check=True).stdout == "ok\n"
    r = daemon.docker("import", http_tar + "/bb.tar", "dockerurl:1")
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip().splitlines()[-1].startswith("sha256:")
    daemon.cli("rmi", "cliurl:1", "dockerurl:1", check=True)
