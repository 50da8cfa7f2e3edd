"""Shared fixtures: a busybox rootfs tar made from /bin/busybox, and a real daemon.

Tests never need a registry or the network: base images are made here.
"""
from __future__ import annotations

import contextlib
import os
import shutil

import pytest

from tests.helpers.daemon import Daemon
from tests.helpers.rootfs import BUSYBOX, write_busybox_tar

CACHE = os.path.join(os.path.dirname(__file__), "..", ".cache")


def pytest_collection_modifyitems(config, items):
    if os.geteuid() != 0:
        skip = pytest.mark.skip(reason="needs root (real namespaces, mounts, cgroups)")
        for item in items:
            if "root" in item.keywords:
                item.add_marker(skip)


_BEFORE: dict = {}
_LEFT: list[str] = []


def pytest_sessionstart(session):
    if os.geteuid() == 0:
        from tests.helpers import leftovers
        _BEFORE.update(leftovers.snapshot())


def pytest_sessionfinish(session, exitstatus):
    """Every test cleans up what it made: anything new on the machine fails the run."""
    if _BEFORE:
        from tests.helpers import leftovers
        _LEFT[:] = leftovers.new_since(_BEFORE)
        if _LEFT and session.exitstatus == 0:
            session.exitstatus = 1


def pytest_terminal_summary(terminalreporter):
    from tests.helpers.tally import summary_lines
    for line in summary_lines():
        terminalreporter.write_line(line)
    if _BEFORE:
        if _LEFT:
            terminalreporter.write_line(f"machine leftovers: {len(_LEFT)} (this run fails)",
                                        red=True)
            for line in _LEFT:
                terminalreporter.write_line(f"  {line}")
        else:
            terminalreporter.write_line("machine leftovers: none (cgroups, links, netns, "
                                        "mounts, iptables chains, processes)")


@pytest.fixture(scope="session")
def busybox_tar(tmp_path_factory) -> str:
    """Path to a rootfs tar with busybox and its applet links (≈1-2 MB)."""
    if not os.path.exists(BUSYBOX):
        pytest.fail("busybox-static is not installed: run scripts/setup.sh")
    path = tmp_path_factory.mktemp("rootfs") / "busybox.tar"
    return write_busybox_tar(str(path))


@contextlib.contextmanager
def _busybox_daemon(busybox_tar: str, **kw):
    d = Daemon(**kw)
    try:
        d.start()
        d.import_tar(busybox_tar, "busybox:latest")
        yield d
    finally:
        d.cleanup()


@pytest.fixture(scope="session")
def daemon(busybox_tar):
    """A real dockyardd on a temporary socket/data root, with ``busybox:latest`` imported."""
    with _busybox_daemon(busybox_tar) as d:
        yield d


@pytest.fixture(scope="module")
def runc_daemon(busybox_tar):
    """The same, with runc as its OCI runtime (skipped where runc is not installed).

    runc removes a container's cgroup but not its parent: on a hybrid host it leaves
    /sys/fs/cgroup/unified/dockyard behind, which this fixture removes again when it
    made it (docker leaves its /docker parents too; tests leave nothing)."""
    if not shutil.which("runc"):
        pytest.skip("runc not installed")
    import glob
    before = set(glob.glob("/sys/fs/cgroup/*/dockyard"))
    try:
        with _busybox_daemon(busybox_tar, runtime="runc") as d:
            yield d
    finally:
        for parent in set(glob.glob("/sys/fs/cgroup/*/dockyard")) - before:
            try:
                os.rmdir(parent)
            except OSError:
                pass  # not empty: a container of another daemon lives there


@pytest.fixture
def fresh_daemon(busybox_tar):
    """A daemon of the test's own (for restart/kill tests that disturb it)."""
    with _busybox_daemon(busybox_tar) as d:
        yield d


@pytest.fixture
def ctr(daemon):
    """Names for containers a test creates; all of them are removed afterwards."""
    class Tracker:
        def __init__(self):
            self.names: list[str] = []

        def name(self, base: str) -> str:
            import secrets
            n = f"{base}-{secrets.token_hex(3)}"
            self.names.append(n)
            return n

    t = Tracker()
    yield t
    for n in t.names:
        daemon.cli("rm", "-f", "-v", n)
