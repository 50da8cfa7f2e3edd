"""create / start / state / kill / delete / exec / pause / list / ps, both runtimes."""
from __future__ import annotations

import json
import os
import socket
import subprocess
import threading

import pytest

from tests.integration.runtime.conftest import CGROUP_PARENT, edit_config

pytestmark = pytest.mark.root


def _wait_stopped(rt, cid: str) -> dict:
    """Poll-free: ``kill`` then ``state`` until stopped (bounded, no sleeps needed
    beyond the kernel reaping the init)."""
    for _ in range(2000):
        state = rt.state(cid)
        if state["status"] == "stopped":
            return state
    raise AssertionError(f"{cid} did not stop: {state}")


def test_create_start_state_kill_delete(rt, tmp_path):
    cid = rt.new_id()
    bundle = rt.bundle(["sleep", "60"], cid)
    pid_file = str(tmp_path / "pid")
    rt.create(cid, bundle, "--pid-file", pid_file)
    state = rt.state(cid)
    assert state["status"] == "created" and state["id"] == cid
    assert state["pid"] == int(open(pid_file).read())
    assert state["bundle"] == bundle
    rt.cmd("start", cid, check=True)
    assert rt.state(cid)["status"] == "running"
    again = rt.cmd("start", cid)
    assert again.returncode != 0
    rt.cmd("kill", cid, "KILL", check=True)
    assert _wait_stopped(rt, cid)["status"] == "stopped"
    rt.cmd("delete", cid, check=True)
    gone = rt.cmd("state", cid)
    assert gone.returncode != 0 and "does not exist" in gone.stderr
    assert not os.path.exists(f"/sys/fs/cgroup/memory/{CGROUP_PARENT}/{cid}")


def test_delete_running_needs_force(rt):
    cid = rt.started(["sleep", "60"])
    refused = rt.cmd("delete", cid)
    assert refused.returncode != 0 and "not stopped" in refused.stderr
    rt.cmd("delete", "--force", cid, check=True)
    assert rt.cmd("state", cid).returncode != 0
    assert not os.path.exists(f"/sys/fs/cgroup/pids/{CGROUP_PARENT}/{cid}")


def test_delete_created_container(rt):
    cid = rt.new_id()
    rt.create(cid, rt.bundle(["true"], cid))
    rt.cmd("delete", cid, check=True)
    assert rt.cmd("state", cid).returncode != 0


def test_exec_joins_namespaces_and_cgroup(rt):
    cid = rt.started(["sleep", "60"])
    init_pid = rt.state(cid)["pid"]
    out = rt.cmd("exec", cid, "sh", "-c", "hostname; readlink /proc/self/ns/pid; "
                                          "readlink /proc/self/ns/mnt; cat /proc/self/cgroup")
    assert out.returncode == 0, out.stderr
    lines = out.stdout.split()
    assert lines[0] == "probe"
    assert lines[1] == os.readlink(f"/proc/{init_pid}/ns/pid")
    assert lines[2] == os.readlink(f"/proc/{init_pid}/ns/mnt")
    assert any(line.endswith(f"/{CGROUP_PARENT}/{cid}") and "memory" in line for line in lines)
    assert rt.cmd("exec", cid, "sh", "-c", "exit 5").returncode == 5


def test_exec_with_process_json(rt, tmp_path):
    cid = rt.started(["sleep", "60"])
    process = {"args": ["sh", "-c", "id -u; pwd"], "cwd": "/tmp", "user": {"uid": 65534,
                                                                          "gid": 65534},
               "env": ["PATH=/bin:/usr/bin"], "terminal": False}
    path = tmp_path / "process.json"
    path.write_text(json.dumps(process))
    out = rt.cmd("exec", "--process", str(path), cid)
    assert out.stdout.split() == ["65534", "/tmp"], out.stderr


def test_kill_all_pause_resume_ps_list(rt):
    cid = rt.started(["sh", "-c", "sleep 60 & sleep 60"])
    pids = json.loads(rt.cmd("ps", "--format", "json", cid, check=True).stdout)
    assert rt.state(cid)["pid"] in pids and len(pids) >= 2
    rt.cmd("pause", cid, check=True)
    assert rt.state(cid)["status"] == "paused"
    rt.cmd("resume", cid, check=True)
    assert rt.state(cid)["status"] == "running"
    listed = json.loads(rt.cmd("list", "--format", "json", check=True).stdout)
    assert [c["id"] for c in listed] == [cid]
    rt.cmd("kill", "--all", cid, "9", check=True)
    assert _wait_stopped(rt, cid)["status"] == "stopped"


def test_kill_bad_signal(rt):
    cid = rt.started(["sleep", "60"])
    out = rt.cmd("kill", cid, "NOSUCHSIG")
    assert out.returncode != 0
    assert rt.state(cid)["status"] == "running"


def test_hooks_run_with_state_on_stdin(rt, tmp_path):
    log = tmp_path / "hooks.log"
    script = tmp_path / "hook.sh"
    script.write_text(f"#!/bin/sh\necho \"$1 $(cat)\" >> {log}\n")
    script.chmod(0o755)

    def hook(kind):
        return [{"path": str(script), "args": ["hook.sh", kind]}]
    edit = edit_config(hooks={k: hook(k) for k in ("prestart", "createRuntime", "poststart",
                                                  "poststop")})
    out = rt.run(["true"], edit)
    assert out.returncode == 0, out.stderr
    kinds = [line.split(" ", 1) for line in log.read_text().splitlines()]
    assert [k for k, _ in kinds] == ["prestart", "createRuntime", "poststart", "poststop"]
    states = [json.loads(s) for _, s in kinds]
    assert all(s["id"] == rt.ids[-1] for s in states)
    assert states[0]["pid"] > 0


def test_console_socket_gets_a_pty(rt, tmp_path):
    sock_path = str(tmp_path / "console.sock")
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(sock_path)
    server.listen(1)
    got = {}

    def accept():
        conn, _ = server.accept()
        msg, fds, _, _ = socket.recv_fds(conn, 1024, 1)
        got["fds"] = fds
        conn.close()
    t = threading.Thread(target=accept)
    t.start()
    cid = rt.new_id()
    bundle = rt.bundle(["sh", "-c", "tty; echo on-the-pty"], cid,
                       edit_config(process={"terminal": True}))
    try:
        rt.create(cid, bundle, "--console-socket", sock_path)
        t.join(10)
        master = got["fds"][0]
        rt.cmd("start", cid, check=True)
        data = b""
        while b"on-the-pty" not in data:
            try:
                chunk = os.read(master, 1024)
            except OSError:
                break
            if not chunk:
                break
            data += chunk
        os.close(master)
        assert b"/dev/pts/" in data and b"on-the-pty" in data
    finally:
        server.close()


def test_rslave_bind_sees_later_host_mounts(rt, tmp_path):
    """Propagation: / is private here, so the test makes its own shared mount point."""
    shared = tmp_path / "shared"
    shared.mkdir()
    subprocess.run(["mount", "--bind", str(shared), str(shared)], check=True)
    try:
        subprocess.run(["mount", "--make-shared", str(shared)], check=True)
        edit = edit_config(mounts=[{"destination": "/data", "type": "bind",
                                    "source": str(shared), "options": ["rbind", "rslave"]}])

        def add_mount(config):
            mounts = config["mounts"]
            edit(config)
            config["mounts"] = mounts + config["mounts"]
        cid = rt.started(["sleep", "60"], add_mount)
        (shared / "sub").mkdir()
        subprocess.run(["mount", "-t", "tmpfs", "probe-tmpfs", str(shared / "sub")], check=True)
        out = rt.cmd("exec", cid, "grep", "/data/sub", "/proc/self/mounts")
        assert "probe-tmpfs" in out.stdout, out.stderr
    finally:
        subprocess.run(["umount", "-R", str(shared)], check=False)


def test_container_side_hooks(rt, tmp_path):
    """createContainer runs in the container's namespaces (its hostname), before
    pivot_root; startContainer runs inside the container, from its rootfs."""
    log = tmp_path / "cc.log"
    script = tmp_path / "cc.sh"
    script.write_text(f"#!/bin/sh\nhostname > {log}\n")
    script.chmod(0o755)
    edit = edit_config(hooks={
        "createContainer": [{"path": str(script)}],
        "startContainer": [{"path": "/bin/sh", "args": ["sh", "-c", "echo started > /tmp/sc"]}]})
    out = rt.run(["sh", "-c", "cat /tmp/sc; rm /tmp/sc"], edit)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "started"
    assert log.read_text().strip() in ("probe", os.uname().nodename)


def test_events_stats(rt):
    cid = rt.started(["sleep", "60"])
    out = rt.cmd("events", "--stats", cid, check=True)
    event = json.loads(out.stdout)
    assert event["type"] == "stats" and event["id"] == cid
    assert event["data"]["pids"]["current"] >= 1
    assert event["data"]["memory"]["usage"]["usage"] > 0


def test_update_changes_live_limits(rt, tmp_path):
    """``update --resources FILE`` and the single-value flags write the live cgroup, as
    ``runc update`` does; the container sees its new limits."""
    edit = edit_config(linux={"resources": {
        "memory": {"limit": 64 * 2**20}, "pids": {"limit": 50},
        "devices": [{"allow": False, "access": "rwm"}]}})
    cid = rt.started(["sleep", "60"], edit)
    res = tmp_path / "res.json"
    res.write_text(json.dumps({"memory": {"limit": 96 * 2**20, "reservation": 32 * 2**20},
                               "cpu": {"quota": 25000, "period": 100000}}))
    rt.cmd("update", "--resources", str(res), cid, check=True)
    rt.cmd("update", "--pids-limit", "20", "--cpu-share", "256", cid, check=True)
    out = rt.cmd("exec", cid, "sh", "-c", "cd /sys/fs/cgroup; cat memory/memory.limit_in_bytes "
                 "memory/memory.soft_limit_in_bytes cpu/cpu.cfs_quota_us cpu/cpu.shares "
                 "pids/pids.max", check=True)
    assert out.stdout.split() == [str(96 * 2**20), str(32 * 2**20), "25000", "256", "20"]
    bad = rt.cmd("update", "--memory", "lots", cid)
    assert bad.returncode != 0 and "lots" in bad.stderr
    assert rt.cmd("update", "--pids-limit", "10", "nosuch").returncode != 0


def test_exec_flags(rt):
    cid = rt.started(["sleep", "60"])
    out = rt.cmd("exec", "--cwd", "/tmp", "-e", "PROBE=yes", "-u", "65534:65534", cid,
                 "sh", "-c", "pwd; echo $PROBE; id -u; id -g")
    assert out.stdout.split() == ["/tmp", "yes", "65534", "65534"], out.stderr
    missing = rt.cmd("exec", cid, "/no/such/thing")
    assert missing.returncode != 0 and "/no/such/thing" in missing.stderr
