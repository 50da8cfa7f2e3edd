"""Reproduce two container-escape attacks and show they fail, on both runtimes.

CVE-2024-21626: a host fd (or host cwd) leaked into the init lets
``process.cwd = /proc/self/fd/N`` land outside the container.
CVE-2019-5736: a container program that is a ``#!/proc/self/exe`` script makes
the kernel run the *runtime's* binary inside the container, where it can be
reopened for writing through /proc/<pid>/exe.
"""
from __future__ import annotations

import hashlib
import os
import subprocess
import sys

import pytest

from tests.integration.runtime.conftest import edit_config

pytestmark = pytest.mark.root


def test_no_host_fd_reaches_the_container(rt, tmp_path):
    marker = tmp_path / "host-marker"
    marker.write_text("x")
    leaked = os.open(str(tmp_path), os.O_RDONLY | os.O_DIRECTORY)
    try:
        cid = rt.new_id()
        bundle = rt.bundle(["sh", "-c", "ls /proc/self/fd"], cid)
        out = subprocess.run([rt.binary, "--root", rt.root, "run", "--bundle", bundle, cid],
                             capture_output=True, text=True, cwd=str(tmp_path),
                             pass_fds=(leaked,), timeout=20)
    finally:
        os.close(leaked)
    assert out.returncode == 0, out.stderr
    assert set(out.stdout.split()) <= {"0", "1", "2", "3"}  # 3 is ls's own directory


@pytest.mark.parametrize("fd", range(3, 9))
def test_cwd_through_proc_self_fd_stays_inside(rt, tmp_path, fd):
    (tmp_path / "host-marker").write_text("x")
    cid = rt.new_id()
    bundle = rt.bundle(["sh", "-c", "ls -a . .. ../.. 2>&1"], cid,
                       edit_config(process={"cwd": f"/proc/self/fd/{fd}"}))
    out = subprocess.run([rt.binary, "--root", rt.root, "run", "--bundle", bundle, cid],
                         capture_output=True, text=True, cwd=str(tmp_path), timeout=20)
    assert "host-marker" not in out.stdout
    assert "work" not in out.stdout.split()  # the host's root directory entries


def test_exec_cwd_through_proc_self_fd_stays_inside(rt, tmp_path):
    (tmp_path / "host-marker").write_text("x")
    cid = rt.started(["sleep", "60"])
    for fd in range(3, 9):
        out = subprocess.run([rt.binary, "--root", rt.root, "exec", "--cwd",
                              f"/proc/self/fd/{fd}", cid, "ls", "-a", ".", ".."],
                             capture_output=True, text=True, cwd=str(tmp_path), timeout=20)
        assert "host-marker" not in out.stdout


def _sha(path: str) -> str:
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def _runtime_binary(rt) -> str:
    """The host file the attack would overwrite: runc, or our interpreter."""
    return rt.binary if rt.name == "runc" else os.path.realpath(sys.executable)


@pytest.fixture
def evil_script(rt):
    """``/evil-<id>`` in the rootfs: a script whose interpreter is /proc/self/exe."""
    name = f"evil-{os.getpid()}-{rt.name}"
    path = os.path.join(rt.rootfs, name)
    with open(path, "w") as f:
        f.write("#!/proc/self/exe\n")
    os.chmod(path, 0o755)
    yield "/" + name
    os.unlink(path)


def test_proc_self_exe_script_as_exec(rt, evil_script):
    before = _sha(_runtime_binary(rt))
    cid = rt.started(["sleep", "60"])
    out = rt.cmd("exec", cid, evil_script)
    assert out.returncode != 0
    if rt.name == "dockyard":
        # the sealed trampoline refused to act as an interpreter: the host
        # interpreter never ran inside the container
        assert out.returncode == 127
    assert _sha(_runtime_binary(rt)) == before


def test_proc_self_exe_script_as_entrypoint(rt, evil_script):
    before = _sha(_runtime_binary(rt))
    out = rt.run([evil_script])
    assert out.returncode != 0
    if rt.name == "dockyard":
        assert out.returncode == 127
    assert _sha(_runtime_binary(rt)) == before
