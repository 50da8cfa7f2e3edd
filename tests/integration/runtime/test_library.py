"""The in-process API the supervisor uses: the init is the caller's child."""
from __future__ import annotations

import os

import pytest

from dockyard.runtime import Runtime
from tests.integration.runtime.conftest import base_config

pytestmark = pytest.mark.root


@pytest.fixture
def lib(tmp_path, busybox_rootfs):
    rt = Runtime(str(tmp_path / "state"))
    made = []

    def bundle(args, cid):
        import json
        path = tmp_path / cid
        path.mkdir()
        config = base_config(args, cid)
        config["root"]["path"] = busybox_rootfs
        (path / "config.json").write_text(json.dumps(config))
        made.append(cid)
        return str(path)
    yield rt, bundle
    for cid in made:
        try:
            rt.delete(cid, force=True)
        except Exception:  # noqa: BLE001 - already gone
            pass


def test_create_start_wait_with_stdio(lib):
    rt, bundle = lib
    r, w = os.pipe()
    pid = rt.create("lib1", bundle(["sh", "-c", "echo hello; exit 3"], "lib1"),
                    stdio=(os.open(os.devnull, os.O_RDONLY), w, w))
    os.close(w)
    assert os.waitpid(pid, os.WNOHANG) == (0, 0)  # our child, still waiting on start
    assert rt.state("lib1")["status"] == "created"
    rt.start("lib1")
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 3
    assert os.read(r, 100) == b"hello\n"
    os.close(r)
    assert rt.state("lib1")["status"] == "stopped"
    rt.delete("lib1")
    assert rt.list() == []


def test_exec_returns_a_child_pid(lib):
    rt, bundle = lib
    pid = rt.create("lib2", bundle(["sleep", "60"], "lib2"))
    rt.start("lib2")
    r, w = os.pipe()
    epid = rt.exec("lib2", {"args": ["hostname"], "cwd": "/", "env": ["PATH=/bin"]},
                   stdio=(os.open(os.devnull, os.O_RDONLY), w, w))
    os.close(w)
    _, status = os.waitpid(epid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert os.read(r, 100) == b"probe\n"
    os.close(r)
    assert set(rt.ps("lib2")) == {pid}
    stats = rt.stats("lib2")
    assert stats["pids"]["current"] >= 1 and stats["memory"]["usage"]["usage"] > 0
    rt.kill("lib2", "KILL")
    os.waitpid(pid, 0)
    rt.delete("lib2")


def test_multithreaded_caller_takes_the_intermediate_path(lib):
    """With a second thread alive (like the supervisor) the init is cloned by an
    intermediate (CLONE_PARENT): still our child, still pid 1 in its namespace."""
    import threading
    from dockyard.runtime.process import parent
    rt, bundle = lib
    gate = threading.Event()
    t = threading.Thread(target=gate.wait)
    t.start()
    try:
        assert not parent._can_fork_directly({"linux": {"namespaces": []}})
        r, w = os.pipe()
        pid = rt.create("lib3", bundle(["sh", "-c", "echo $$"], "lib3"),
                        stdio=(os.open(os.devnull, os.O_RDONLY), w, w))
        os.close(w)
        assert os.waitpid(pid, os.WNOHANG) == (0, 0)
        rt.start("lib3")
        _, status = os.waitpid(pid, 0)
        assert os.waitstatus_to_exitcode(status) == 0
        assert os.read(r, 100) == b"1\n"
        os.close(r)
        rt.delete("lib3")
    finally:
        gate.set()
        t.join()


def test_seccomp_filter_reused_across_creates(tmp_path, busybox_rootfs):
    """The compiled filter is cached in the caller; each child still loads it."""
    import json
    rt = Runtime(str(tmp_path / "state"))
    seccomp = {"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [
        {"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1}]}
    for cid in ("sc1", "sc2"):
        path = tmp_path / cid
        path.mkdir()
        config = base_config(["sh", "-c", "mkdir /tmp/x-$$ || echo DENIED"], cid)
        config["root"]["path"] = busybox_rootfs
        config["linux"]["seccomp"] = seccomp
        (path / "config.json").write_text(json.dumps(config))
        r, w = os.pipe()
        try:
            pid = rt.create(cid, str(path), stdio=(os.open(os.devnull, os.O_RDONLY), w, w))
            os.close(w)
            rt.start(cid)
            os.waitpid(pid, 0)
            assert b"DENIED" in os.read(r, 200)
        finally:
            os.close(r)
            rt.delete(cid, force=True)
