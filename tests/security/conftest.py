"""Security tier: escape probes from inside default containers, counted and reported."""
import os
import shutil
import subprocess
import tarfile

import pytest

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
    """Counts probes tried/blocked across the session; printed at the end."""

    def __init__(self):
        self.rows: list[tuple[str, str, str]] = []

    def add(self, engine: str, name: str, verdict: str) -> None:
        self.rows.append((engine, name, verdict))


TALLY = Tally()


@pytest.fixture(scope="session")
def tally():
    return TALLY


def pytest_terminal_summary(terminalreporter):
    if not TALLY.rows:
        return
    tried = len(TALLY.rows)
    blocked = sum(1 for r in TALLY.rows if r[2] == "BLOCKED")
    terminalreporter.write_line(f"security probes: {tried} tried, {blocked} blocked, "
                                f"{tried - blocked} escaped")
    for engine, name, verdict in TALLY.rows:
        if verdict != "BLOCKED":
            terminalreporter.write_line(f"  {verdict} {engine} {name}")
