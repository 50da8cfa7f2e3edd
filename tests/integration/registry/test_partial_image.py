"""While a pull is under way, `images` lists the image as `<none> <none>` with its ID and
the bytes so far, as the talk shows docker doing; it is gone once the pull completes."""
import subprocess
import time

import pytest

from tests.helpers.daemon import dockyard_bin
from tests.integration.registry.regserver import Proxy, Registry

pytestmark = pytest.mark.root


def test_images_shows_a_partial_image_during_a_pull(daemon, tmp_path):
    reg = Registry(str(tmp_path / "reg"))
    proxy = Proxy(reg.port, mode="slow")
    name = "partial"
    try:
        daemon.cli("run", "--name", "mkbig", "busybox", "sh", "-c",
                   "dd if=/dev/urandom of=/big bs=1M count=4 2>/dev/null", check=True)
        daemon.cli("commit", "mkbig", f"{reg.host}/{name}:1", check=True)
        daemon.cli("rm", "mkbig", check=True)
        daemon.cli("push", f"{reg.host}/{name}:1", check=True)
        image_id = daemon.client.get(f"/images/{reg.host}/{name}:1/json")["Id"]
        daemon.cli("rmi", f"{reg.host}/{name}:1", check=True)
        pull = subprocess.Popen([dockyard_bin("dockyard"), "pull", f"{proxy.host}/{name}:1"],
                                env=daemon.env, stdout=subprocess.PIPE, text=True)
        seen = None
        end = time.monotonic() + 60
        while pull.poll() is None and time.monotonic() < end:
            rows = [l.split() for l in daemon.cli("images").stdout.splitlines()[1:]]
            partial = [r for r in rows if r[:2] == ["<none>", "<none>"] and
                       image_id.split(":")[1].startswith(r[2])]
            if partial:
                seen = partial[0]
                break
            time.sleep(0.1)
        out, _ = pull.communicate(timeout=120)
        assert pull.returncode == 0, out
        assert seen is not None, "no <none> entry while the pull ran"
        rows = daemon.cli("images").stdout
        assert f"{proxy.host}/{name}" in rows
        short = image_id.split(":")[1][:12]  # the partial entry became the tagged image
        assert not [l for l in rows.splitlines() if l.startswith("<none>") and short in l]
    finally:
        proxy.stop()
        reg.stop()
        daemon.cli("rmi", "-f", f"{proxy.host}/{name}:1")
