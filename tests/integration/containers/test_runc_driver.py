"""The same supervisor with the external-binary driver (``dockyardd --runtime runc``)."""
from __future__ import annotations

import shutil
import subprocess

import pytest


pytestmark = [pytest.mark.root,
              pytest.mark.skipif(not shutil.which("runc"), reason="runc not installed")]


def test_run_rm_exec_stop_with_runc(runc_daemon):
    d = runc_daemon
    r = d.cli("run", "--rm", "busybox", "sh", "-c", "echo hi; echo err >&2; exit 4")
    assert (r.returncode, r.stdout, r.stderr) == (4, "hi\n", "err\n")
    d.cli("run", "-d", "--name", "rc1", "busybox", "sleep", "1000", check=True)
    try:
        assert d.cli("exec", "rc1", "sh", "-c", "exit 5").returncode == 5
        assert d.cli("stop", "-t", "1", "rc1").returncode == 0
        assert d.cli("wait", "rc1").stdout.strip() == "137"
    finally:
        d.cli("rm", "-f", "rc1")


def test_tty_with_runc(runc_daemon):
    cmd = "docker run --rm -it busybox sh -c 'tty; exit 2'"
    r = subprocess.run(["script", "-qec", cmd, "/dev/null"], env=dict(runc_daemon.env),
                       capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
    assert r.returncode == 2 and "/dev/pts/0" in r.stdout
