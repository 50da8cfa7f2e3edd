"""Security tier: escape probes from inside default containers, counted and reported."""
import os
import shutil
import subprocess
import tarfile

import pytest

from tests.helpers.tally import PROBES

HERE = os.path.dirname(__file__)


@pytest.fixture(scope="session")
def probe_bin(tmp_path_factory) -> str:
    """The probe (probe.c), linked statically so it runs in any image."""
    if not shutil.which("gcc"):
        pytest.fail("gcc is needed to build the escape probe")
    out = str(tmp_path_factory.mktemp("probe") / "probe")
    subprocess.run(["gcc", "-static", "-O1", "-o", out, os.path.join(HERE, "probe.c")],
                   check=True, capture_output=True)
    return out


@pytest.fixture(scope="session")
def probe_image(daemon, busybox_tar, probe_bin, tmp_path_factory) -> str:
    """busybox + /probe, imported as dy-probe:latest."""
    path = str(tmp_path_factory.mktemp("probeimg") / "probe.tar")
    shutil.copy(busybox_tar, path)
    with tarfile.open(path, "a") as tf:
        tf.add(probe_bin, "probe")
    daemon.import_tar(path, "dy-probe:latest")
    return "dy-probe:latest"


class Tally:
    """Records each probe's verdict in the session-wide tally (tests/helpers/tally.py)."""

    def add(self, engine: str, name: str, verdict: str) -> None:
        PROBES.append((engine, name, verdict))


@pytest.fixture(scope="session")
def tally():
    return Tally()
