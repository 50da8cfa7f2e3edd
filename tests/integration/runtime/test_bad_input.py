"""Bad input: a clear error, a non-zero exit, and nothing left behind."""
from __future__ import annotations

import json
import os

import pytest

from tests.integration.runtime.conftest import CGROUP_PARENT, edit_config

pytestmark = pytest.mark.root


def assert_nothing_left(rt, cid: str) -> None:
    assert not os.path.exists(os.path.join(rt.root, cid)), "state dir left behind"
    for controller in ("memory", "pids", "cpu", "freezer"):
        assert not os.path.exists(f"/sys/fs/cgroup/{controller}/{CGROUP_PARENT}/{cid}")
    with open("/proc/self/mountinfo") as f:
        assert rt.rootfs not in f.read(), "mount left behind"


def _create(rt, cid: str, bundle: str):
    proc = rt.create(cid, bundle, check=False)
    assert proc.returncode != 0
    assert_nothing_left(rt, cid)
    return proc.stderr


def test_missing_config(rt, tmp_path):
    cid = rt.new_id()
    err = _create(rt, cid, str(tmp_path))
    assert "config.json" in err


def test_malformed_config(rt, tmp_path):
    cid = rt.new_id()
    (tmp_path / "config.json").write_text('{"ociVersion": "1.0.2", "process": {')
    err = _create(rt, cid, str(tmp_path))
    if rt.name == "dockyard":
        assert "malformed JSON" in err


def test_unknown_namespace(rt):
    cid = rt.new_id()
    edit = edit_config(linux={"namespaces": [{"type": "mount"}, {"type": "bogus"}]})
    err = _create(rt, cid, rt.bundle(["true"], cid, edit))
    if rt.name == "dockyard":
        assert "linux.namespaces[1].type" in err and "bogus" in err


def test_rootfs_missing(rt):
    cid = rt.new_id()
    err = _create(rt, cid, rt.bundle(["true"], cid, edit_config(root={"path": "/nonexistent"})))
    if rt.name == "dockyard":
        assert "root.path" in err


def test_wrong_type_names_field(rt):
    cid = rt.new_id()
    err = _create(rt, cid, rt.bundle(["true"], cid, edit_config(process={"cwd": 5})))
    if rt.name == "dockyard":
        assert "process.cwd" in err


def test_missing_executable(rt):
    cid = rt.new_id()
    err = _create(rt, cid, rt.bundle(["/no/such/binary"], cid))
    assert "/no/such/binary" in err


def test_failing_mount_reports_syscall_and_path(rt):
    cid = rt.new_id()

    def bad_mount(config):
        config["mounts"].append({"destination": "/data", "type": "bind",
                                 "source": "/nonexistent/source", "options": ["rbind"]})
    err = _create(rt, cid, rt.bundle(["true"], cid, bad_mount))
    assert "/nonexistent/source" in err


def test_id_in_use(rt):
    cid = rt.started(["sleep", "60"])
    proc = rt.create(cid, rt.bundle(["true"], cid + "x"), check=False)
    assert proc.returncode != 0 and "exists" in proc.stderr
    assert rt.state(cid)["status"] == "running"


def test_unknown_container(rt):
    for verb in (["state"], ["start"], ["kill"], ["delete"]):
        proc = rt.cmd(*verb, "nosuchcontainer")
        assert proc.returncode == 1 and "does not exist" in proc.stderr


def test_state_json_shape(rt):
    cid = rt.started(["sleep", "60"])
    state = rt.state(cid)
    for key in ("ociVersion", "id", "status", "pid", "bundle"):
        assert key in state
    assert json.loads(json.dumps(state)) == state
