"""cp (never out of the container), diff, export, commit, volumes and bind mounts."""
from __future__ import annotations

import io
import json
import os
import tarfile

import pytest

pytestmark = pytest.mark.root


def test_cp_does_not_follow_a_symlink_out_of_the_container(daemon, ctr, tmp_path):
    n = ctr.name("esc")
    daemon.cli("run", "-d", "--name", n, "busybox", "sh", "-c",
               "ln -s /etc /tmp/etclink; ln -s ../../../../../../etc/hostname /tmp/rel; "
               "echo ready > /tmp/ok; exec sleep 1000", check=True)
    while daemon.cli("exec", n, "cat", "/tmp/ok").stdout != "ready\n":
        pass
    out = tmp_path / "h"
    assert daemon.cli("cp", f"{n}:/tmp/rel/", str(out)).returncode in (0, 1)
    if out.exists():  # resolved inside the container: the container's hostname file
        assert out.read_text().strip() == daemon.cli("inspect", "-f", "{{.Config.Hostname}}",
                                                     n).stdout.strip()
    src = tmp_path / "payload"
    src.write_text("x\n")
    assert daemon.cli("cp", str(src), f"{n}:/tmp/etclink/").returncode == 0
    assert not os.path.exists("/etc/payload")  # went to the container's /etc
    assert daemon.cli("exec", n, "cat", "/etc/payload").stdout == "x\n"


def test_diff_and_export(daemon, ctr, tmp_path):
    n = ctr.name("diff")
    daemon.cli("run", "--name", n, "busybox", "sh", "-c",
               "mkdir /newdir && echo a > /newdir/f && rm /bin/vi", check=True)
    lines = daemon.cli("diff", n).stdout.splitlines()
    assert "A /newdir" in lines and "A /newdir/f" in lines and "D /bin/vi" in lines
    out = tmp_path / "x.tar"
    assert daemon.cli("export", "-o", str(out), n).returncode == 0
    with tarfile.open(out) as tf:
        names = set(tf.getnames())
    assert "newdir/f" in names and "bin/busybox" in names and "bin/vi" not in names


def test_named_volume_outlives_containers(daemon, ctr):
    vol = ctr.name("vol")
    assert daemon.cli("volume", "create", vol).stdout.strip() == vol
    try:
        daemon.cli("run", "--rm", "-v", f"{vol}:/data", "busybox", "sh", "-c",
                   "echo kept > /data/f", check=True)
        r = daemon.cli("run", "--rm", "-v", f"{vol}:/data:ro", "busybox", "sh", "-c",
                       "cat /data/f; touch /data/g 2>&1 || true")
        assert r.stdout.splitlines()[0] == "kept"
        assert "Read-only file system" in r.stdout
        assert vol in daemon.cli("volume", "ls", "-q").stdout.split()
        info = json.loads(daemon.cli("volume", "inspect", vol).stdout)[0]
        assert info["Driver"] == "local" and info["Name"] == vol
        n = ctr.name("user")
        daemon.cli("create", "--name", n, "-v", f"{vol}:/data", "busybox", "true", check=True)
        r = daemon.cli("volume", "rm", vol)
        assert r.returncode == 1 and "volume is in use" in r.stderr
        daemon.cli("rm", n, check=True)
    finally:
        daemon.cli("volume", "rm", vol)
    assert vol not in daemon.cli("volume", "ls", "-q").stdout.split()


def test_bind_mount_and_tmpfs(daemon, tmp_path):
    (tmp_path / "in.txt").write_text("from host\n")
    r = daemon.cli("run", "--rm", "-v", f"{tmp_path}:/host", "--tmpfs", "/scratch",
                   "--read-only", "busybox", "sh", "-c",
                   "cat /host/in.txt; echo out > /host/out.txt; echo s > /scratch/s && echo tmpfs-ok;"
                   " touch /rootfile 2>&1 || true")
    assert r.stdout.splitlines()[:2] == ["from host", "tmpfs-ok"]
    assert "Read-only file system" in r.stdout
    assert (tmp_path / "out.txt").read_text() == "out\n"


def test_anonymous_volume_removed_with_rm_v(daemon, ctr):
    n = ctr.name("anon")
    daemon.cli("create", "--name", n, "-v", "/data", "busybox", "true", check=True)
    name = json.loads(daemon.cli("inspect", n).stdout)[0]["Mounts"][0]["Name"]
    assert name in daemon.cli("volume", "ls", "-q").stdout
    daemon.cli("rm", "-v", n, check=True)
    assert name not in daemon.cli("volume", "ls", "-q").stdout
