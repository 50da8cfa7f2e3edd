"""ps -s / inspect -s: the container layer's size and, with the image, the virtual size."""
from __future__ import annotations

import json
import shutil

import pytest

pytestmark = pytest.mark.root


def test_ps_and_inspect_sizes(daemon, ctr):
    n = ctr.name("size")
    daemon.cli("run", "-d", "--name", n, "busybox", "sh", "-c",
               "head -c 12345 /dev/zero > /f; sleep 1000", check=True)
    while daemon.cli("exec", n, "test", "-f", "/f").returncode != 0:
        pass
    info = json.loads(daemon.cli("inspect", "-s", n, check=True).stdout)[0]
    image_size = daemon.client.get(f"/images/{info['Image']}/json")["Size"]
    assert info["SizeRw"] == 12345  # /f; the empty mount points add nothing
    assert info["SizeRootFs"] == image_size + 12345
    rows = daemon.client.get("/containers/json", {"size": 1, "filters": json.dumps(
        {"name": [n]})})
    assert (rows[0]["SizeRw"], rows[0]["SizeRootFs"]) == (12345, image_size + 12345)
    assert "SizeRw" not in daemon.client.get("/containers/json", {"filters": json.dumps(
        {"name": [n]})})[0]  # only when asked: it walks the layer
    out = daemon.cli("ps", "-s", "--filter", f"name={n}", check=True).stdout.splitlines()
    assert out[0].split()[-1] == "SIZE" and "12.3kB (virtual " in out[1]
    if shutil.which("docker"):
        theirs = daemon.docker("ps", "-s", "--filter", f"name={n}", "--format",
                               "{{.Size}}", check=True).stdout
        ours = daemon.cli("ps", "-s", "--filter", f"name={n}", "--format", "{{.Size}}",
                          check=True).stdout
        assert ours == theirs and ours.startswith("12.3kB (virtual ")
