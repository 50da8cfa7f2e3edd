"""Faults: kill -9 of dockyardd and of the supervisor in the middle of work, a data root
that runs out of space, and many clients at once. After each: `system check` finds no
problem, nothing is half-present, and the daemon comes back by itself on the next call."""
import glob
import os
import signal
import subprocess
import threading
import time
import uuid

import pytest

from tests.helpers.daemon import Daemon, detach_mounts_under, dockyard_bin
from tests.helpers.tally import FAULTS as COUNTS

pytestmark = [pytest.mark.root, pytest.mark.slow]


def _check(d: Daemon) -> dict:
    rep = d.client.post("/system/check")
    assert rep["OK"], rep["Problems"]
    return rep


def _supervisor_pid(d: Daemon) -> int | None:
    out = subprocess.run(["pgrep", "-f", f"dockyard.supervisor.server --exec-root {d.exec_root}"],
                         capture_output=True, text=True).stdout.split()
    return int(out[0]) if out else None


def _kill_daemon_when(d: Daemon, predicate, timeout: float = 30) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            os.killpg(d.proc.pid, signal.SIGKILL)
            d.proc.wait()
            d.proc = None
            return True
        time.sleep(0.005)
    return False


def _images(d: Daemon) -> list[str]:
    return [t for i in d.client.get("/images/json") for t in (i.get("RepoTags") or [])]


def _build_cgroups() -> set[str]:
    return set(glob.glob("/sys/fs/cgroup/*/dockyard/dockyard-build-*"))


def _survived(d: Daemon) -> None:
    COUNTS["injected"] += 1
    d.start()
    _check(d)
    COUNTS["survived"] += 1


@pytest.fixture
def big_image_tar(fresh_daemon, tmp_path):
    """A saved image with a ~40 MB layer, so a load takes long enough to be cut."""
    d = fresh_daemon
    d.cli("run", "--name", "mk", "busybox", "sh", "-c",
          "dd if=/dev/urandom of=/big bs=1M count=40 2>/dev/null", check=True)
    d.cli("commit", "mk", "bigimg:1", check=True)
    d.cli("rm", "mk", check=True)
    path = str(tmp_path / "big.tar")
    d.cli("save", "-o", path, "bigimg:1", check=True)
    d.cli("rmi", "bigimg:1", check=True)
    return path


def test_kill9_daemon_during_load(fresh_daemon, big_image_tar):
    d = fresh_daemon
    loader = subprocess.Popen([dockyard_bin("dockyard"), "load", "-i", big_image_tar], env=d.env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    ingest = os.path.join(d.data_root, "content", "ingest")
    assert _kill_daemon_when(d, lambda: os.path.isdir(ingest) and os.listdir(ingest) or
                             loader.poll() is not None)
    loader.wait(30)
    _survived(d)
    tags = _images(d)
    if "bigimg:1" in tags:  # whole, or not at all
        assert d.cli("run", "--rm", "bigimg:1", "test", "-s", "/big").returncode == 0
    r = d.cli("load", "-i", big_image_tar)
    assert r.returncode == 0, r.stderr
    assert "bigimg:1" in _images(d)


def test_kill9_daemon_during_build(fresh_daemon, tmp_path):
    d = fresh_daemon
    ctx = tmp_path / "ctx"
    ctx.mkdir()
    (ctx / "Dockerfile").write_text("FROM busybox\nRUN echo one > /one\n"
                                    "RUN sleep 2 && echo two > /two\nCMD cat /two\n")
    b = subprocess.Popen([dockyard_bin("dockyard"), "build", "-t", "killed:1", str(ctx)], env=d.env,
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    seen = []

    def reader():
        for line in b.stdout:
            seen.append(line)
    threading.Thread(target=reader, daemon=True).start()
    before = _build_cgroups()
    assert _kill_daemon_when(d, lambda: any("Step 3/4" in s for s in seen))
    b.wait(30)
    _survived(d)
    # the step container that was running is gone with its cgroups (the runtime's
    # `run` outlived the daemon, but start-up recovery removed the state it needed)
    assert _build_cgroups() <= before
    assert "killed:1" not in _images(d)
    r = d.cli("build", "-t", "killed:1", str(ctx))
    assert r.returncode == 0, r.stdout + r.stderr
    assert "Using cache" in r.stdout
    assert d.cli("run", "--rm", "killed:1").stdout == "two\n"


def test_kill9_daemon_leaves_containers_running(fresh_daemon):
    d = fresh_daemon
    cid = d.cli("run", "-d", "busybox", "sh", "-c", "i=0; while :; do echo line$i; i=$((i+1)); sleep 0.1; done",
                check=True).stdout.strip()
    os.killpg(d.proc.pid, signal.SIGKILL)
    d.proc.wait()
    d.proc = None
    time.sleep(0.5)
    _survived(d)
    st = d.client.get(f"/containers/{cid}/json")["State"]
    assert st["Running"], st
    logs = d.cli("logs", cid).stdout
    assert "line0" in logs and "line5" in logs
    assert d.cli("exec", cid, "echo", "still-here").stdout == "still-here\n"
    d.cli("stop", "-t", "1", cid, check=True)
    assert d.client.get(f"/containers/{cid}/json")["State"]["Status"] == "exited"


def test_exit_while_daemon_down_keeps_real_exit_code(fresh_daemon):
    d = fresh_daemon
    cid = d.cli("run", "-d", "busybox", "sh", "-c", "sleep 1; exit 7", check=True).stdout.strip()
    d.stop(signal.SIGKILL)
    time.sleep(2)
    _survived(d)
    st = d.client.get(f"/containers/{cid}/json")["State"]
    assert st["Status"] == "exited" and st["ExitCode"] == 7


def test_kill9_supervisor(fresh_daemon):
    d = fresh_daemon
    cid = d.cli("run", "-d", "busybox", "sleep", "300", check=True).stdout.strip()
    pid = _supervisor_pid(d)
    assert pid
    os.kill(pid, signal.SIGKILL)
    time.sleep(0.5)
    COUNTS["injected"] += 1
    # the next request finds a new supervisor and a consistent view
    r = d.cli("run", "--rm", "busybox", "echo", "after")
    assert r.stdout == "after\n", r.stderr
    st = d.client.get(f"/containers/{cid}/json")["State"]
    if st["Running"]:
        assert d.cli("exec", cid, "true").returncode == 0
    d.cli("rm", "-f", cid, check=True)
    _check(d)
    COUNTS["survived"] += 1


def test_kill9_daemon_during_commit_and_start(fresh_daemon):
    d = fresh_daemon
    cid = d.cli("run", "-d", "busybox", "sh", "-c",
                "dd if=/dev/urandom of=/data bs=1M count=30 2>/dev/null; sleep 300",
                check=True).stdout.strip()
    time.sleep(1)
    c = subprocess.Popen([dockyard_bin("dockyard"), "commit", cid, "halfcommit:1"], env=d.env,
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(0.15)
    os.killpg(d.proc.pid, signal.SIGKILL)
    d.proc.wait()
    d.proc = None
    c.wait(30)
    _survived(d)
    if "halfcommit:1" in _images(d):
        assert d.cli("run", "--rm", "halfcommit:1", "test", "-s", "/data").returncode == 0
    s = subprocess.Popen([dockyard_bin("dockyard"), "run", "-d", "--name", "halfstart", "busybox", "sleep", "300"],
                         env=d.env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(0.05)
    os.killpg(d.proc.pid, signal.SIGKILL)
    d.proc.wait()
    d.proc = None
    s.wait(30)
    _survived(d)
    for c in d.client.get("/containers/json", {"all": 1}):
        d.client.delete(f"/containers/{c['Id']}", {"force": 1})


def test_daemon_comes_back_on_next_cli_call(fresh_daemon):
    d = fresh_daemon
    os.killpg(d.proc.pid, signal.SIGKILL)
    d.proc.wait()
    d.proc = None
    env = dict(d.env)
    env.pop("DOCKYARD_NO_AUTOSTART")
    r = subprocess.run([dockyard_bin("dockyard"), "images"], env=env, capture_output=True, text=True, timeout=60)
    assert r.returncode == 0 and "busybox" in r.stdout, r.stderr
    _check(d)


def test_full_disk_leaves_store_consistent(busybox_tar, tmp_path):
    base = str(tmp_path / "small")
    os.makedirs(base)
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=24m", "tmpfs", base], check=True)
    d = Daemon(base=os.path.join(base, "d"))
    try:
        d.start()
        d.import_tar(busybox_tar, "busybox:latest")
        big = tmp_path / "big.tar"
        subprocess.run(["tar", "-cf", str(big), "-C", "/usr", "lib/x86_64-linux-gnu"],
                       check=False, capture_output=True)
        r = d.cli("import", str(big), "toolarge:1")
        assert r.returncode != 0
        assert "no space" in r.stderr.lower(), r.stderr
        COUNTS["injected"] += 1
        _check(d)
        assert "toolarge:1" not in _images(d)
        assert not os.listdir(os.path.join(d.data_root, "content", "ingest"))
        assert d.cli("run", "--rm", "busybox", "echo", "ok").stdout == "ok\n"
        COUNTS["survived"] += 1
    finally:
        d.cleanup()
        detach_mounts_under(base)
        subprocess.run(["umount", "-l", base], capture_output=True)


def test_fifty_concurrent_runs(daemon):
    results = []

    def one(i):
        results.append(daemon.cli("run", "--rm", "busybox", "echo", f"n{i}"))
    threads = [threading.Thread(target=one, args=(i,)) for i in range(50)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(300)
    assert len(results) == 50
    bad = [r for r in results if r.returncode != 0]
    assert not bad, bad[0].stderr
    assert sorted(r.stdout for r in results) == sorted(f"n{i}\n" for i in range(50))
    _check(daemon)


def test_ten_concurrent_builds(daemon, tmp_path):
    results = []

    def one(i):
        ctx = tmp_path / f"ctx{i}"
        ctx.mkdir()
        (ctx / "f").write_text(f"{i}\n")
        (ctx / "Dockerfile").write_text(f"FROM busybox\nCOPY f /f\nRUN cat /f > /g{i}\n")
        results.append(daemon.cli("build", "-q", "-t", f"conc{i}:1", str(ctx)))
    threads = [threading.Thread(target=one, args=(i,)) for i in range(10)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(300)
    bad = [r for r in results if r.returncode != 0]
    assert not bad, bad[0].stdout + bad[0].stderr
    for i in range(10):
        assert daemon.cli("run", "--rm", f"conc{i}:1", "cat", f"/g{i}").stdout == f"{i}\n"
        daemon.cli("rmi", f"conc{i}:1")
    _check(daemon)
