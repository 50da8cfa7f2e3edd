"""The same escape probes under a real dockerd, for comparison (reported, not judged:
the assertions are on dockyard; here we only require that the probes ran)."""
import socket

import pytest

from tests.helpers import dockerd as real

pytestmark = pytest.mark.root


def test_same_probes_under_dockerd(daemon, probe_image, tally, tmp_path):
    if not real.available():
        pytest.skip("docker.io (dockerd) is not installed: no comparison run")
    d = real.Dockerd()
    try:
        d.start()
        tar = str(tmp_path / "probe.tar")
        daemon.cli("save", "-o", tar, probe_image, check=True)
        d.docker("load", "-i", tar, check=True)
        marker = tmp_path / "marker"
        marker.write_text("host\n")
        r = d.docker("run", "--rm", "--network", "none", probe_image, "/probe", str(marker),
                     socket.gethostname(), "0")
        lines = [l.split() for l in r.stdout.splitlines() if l.startswith(("BLOCKED", "ESCAPED"))]
        assert len(lines) > 30, r.stdout + r.stderr
        for verdict, name, *_ in lines:
            tally.add("dockerd run", name, verdict)
    finally:
        d.cleanup()
