"""One daemon per data root and per exec root: a second one says which root and who holds it."""
import os
import subprocess

import pytest

from tests.helpers.daemon import dockyard_bin

pytestmark = pytest.mark.root


@pytest.mark.parametrize("shared", ["data", "exec"])
def test_second_daemon_on_a_root_refuses_to_start(daemon, tmp_path, shared):
    data = daemon.data_root if shared == "data" else str(tmp_path / "data")
    run = daemon.exec_root if shared == "exec" else str(tmp_path / "run")
    sock = str(tmp_path / "second.sock")
    r = subprocess.run([dockyard_bin("dockyardd"), "--host", "unix://" + sock,
                        "--data-root", data, "--exec-root", run],
                       capture_output=True, text=True, timeout=30)
    root = data if shared == "data" else run
    assert r.returncode == 1
    assert f"{root} is in use by another dockyardd (pid {daemon.proc.pid})" in r.stderr
    assert not os.path.exists(sock)
    assert daemon.cli("version").returncode == 0  # the first one is untouched
