"""The real docker CLI against dockyardd: the issue's list, same results as dockerd."""
from __future__ import annotations

import os
import shutil
import subprocess

import pytest

pytestmark = [pytest.mark.root,
              pytest.mark.skipif(not shutil.which("docker"), reason="docker CLI not installed")]


def test_run_detached_ps_logs_exec_stop_rm(daemon, ctr):
    n = ctr.name("dk")
    r = daemon.docker("run", "-d", "--name", n, "busybox", "sh", "-c",
                      "echo hello; exec sleep 1000")
    assert r.returncode == 0, r.stderr
    cid = r.stdout.strip()
    assert len(cid) == 64
    ps = daemon.docker("ps", "--format", "{{.ID}} {{.Names}} {{.Status}}").stdout
    assert f"{cid[:12]} {n} Up" in ps
    while "hello" not in daemon.docker("logs", n).stdout:
        pass
    r = daemon.docker("exec", n, "sh", "-c", "echo from exec; exit 6")
    assert (r.returncode, r.stdout) == (6, "from exec\n")
    assert daemon.docker("stop", "-t", "1", n).stdout.strip() == n
    assert daemon.docker("wait", n).stdout.strip() == "137"
    assert daemon.docker("rm", "-f", n).returncode == 0


def test_run_rm_attached_exit_code(daemon):
    r = daemon.docker("run", "--rm", "busybox", "sh", "-c", "echo out; echo err >&2; exit 3")
    assert (r.returncode, r.stdout, r.stderr) == (3, "out\n", "err\n")
    assert daemon.docker("ps", "-aq").stdout.strip() == ""


def test_run_rm_it_under_a_pty(daemon):
    env = dict(daemon.env)
    cmd = "docker run --rm -it busybox sh -c 'tty; echo in-tty; exit 4'"
    r = subprocess.run(["script", "-qec", cmd, "/dev/null"], env=env, capture_output=True,
                       text=True, timeout=60, stdin=subprocess.DEVNULL)
    assert r.returncode == 4, r.stdout + r.stderr
    assert "/dev/pts/0" in r.stdout and "in-tty" in r.stdout


def test_logs_follow_ends_when_container_exits(daemon, ctr):
    n = ctr.name("lf")
    daemon.docker("run", "-d", "--name", n, "busybox", "sh", "-c",
                  "echo one; sleep 1; echo two", check=True)
    r = daemon.docker("logs", "-f", n)
    assert r.stdout == "one\ntwo\n"


def test_cp_both_ways_and_commit(daemon, ctr, tmp_path):
    n = ctr.name("cp")
    daemon.docker("run", "-d", "--name", n, "busybox", "sleep", "1000", check=True)
    src = tmp_path / "hello.txt"
    src.write_text("hello from host\n")
    assert daemon.docker("cp", str(src), f"{n}:/tmp/").returncode == 0
    out = tmp_path / "back.txt"
    assert daemon.docker("cp", f"{n}:/tmp/hello.txt", str(out)).returncode == 0
    assert out.read_text() == "hello from host\n"
    r = daemon.docker("commit", "-c", "CMD [\"cat\", \"/tmp/hello.txt\"]", n, "committed:1")
    assert r.returncode == 0 and r.stdout.startswith("sha256:")
    try:
        assert daemon.docker("run", "--rm", "committed:1").stdout == "hello from host\n"
    finally:
        daemon.docker("rmi", "committed:1")


def test_wait_prints_exit_code(daemon, ctr):
    n = ctr.name("w")
    daemon.docker("run", "-d", "--name", n, "busybox", "sh", "-c", "sleep 0.3; exit 9",
                  check=True)
    assert daemon.docker("wait", n).stdout.strip() == "9"


def test_unknown_image_message(daemon):
    r = daemon.docker("run", "--rm", "no-such-image-here")
    assert r.returncode == 125
    assert "Unable to find image 'no-such-image-here:latest' locally" in r.stderr


def test_exec_it_under_a_pty(daemon, ctr):
    n = ctr.name("xit")
    daemon.docker("run", "-d", "--name", n, "busybox", "sleep", "1000", check=True)
    cmd = f"docker exec -it {n} sh -c 'tty; exit 3'"
    r = subprocess.run(["script", "-qec", cmd, "/dev/null"], env=dict(daemon.env),
                       capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
    assert r.returncode == 3 and "/dev/pts/" in r.stdout


def test_sigint_is_proxied_to_an_attached_container(daemon, ctr):
    import signal
    from tests.helpers.daemon import dockyard_bin
    n = ctr.name("sig")
    p = subprocess.Popen([dockyard_bin("dockyard"), "run", "--name", n, "busybox", "sh", "-c",
                          "trap 'echo got-int; exit 9' INT; echo ready; "
                          "while true; do sleep 0.1; done"],
                         env=daemon.env, stdout=subprocess.PIPE, text=True)
    assert p.stdout.readline() == "ready\n"
    p.send_signal(signal.SIGINT)
    try:
        out, _ = p.communicate(timeout=60)
    except subprocess.TimeoutExpired:  # say what the daemon saw before failing
        p.kill()
        p.communicate()
        kills = [line for line in daemon.log().splitlines() if "/kill" in line or n in line]
        pytest.fail("SIGINT not proxied within 60 s; daemon log lines for the container:\n"
                    + "\n".join(kills[-15:]))
    assert p.returncode == 9 and "got-int" in out


def test_run_rm_of_a_missing_command_leaves_nothing(daemon):
    r = daemon.docker("run", "--rm", "busybox", "no-such-cmd")
    assert r.returncode == 127 and "executable file not found" in r.stderr
    assert daemon.docker("ps", "-aq").stdout.strip() == ""


def test_update_as_docker_prints_it(daemon, ctr):
    n = ctr.name("dkupd")
    assert daemon.docker("run", "-d", "--name", n, "-m", "64m", "busybox", "sleep",
                         "1000").returncode == 0
    r = daemon.docker("update", "--memory", "128m", "--memory-swap", "256m", "--cpus", "0.5",
                      "--pids-limit", "33", "--restart", "unless-stopped", n)
    assert (r.returncode, r.stdout) == (0, n + "\n"), r.stderr
    fmt = "{{.HostConfig.Memory}} {{.HostConfig.NanoCpus}} {{.HostConfig.PidsLimit}} " \
          "{{.HostConfig.RestartPolicy.Name}}"
    assert daemon.docker("inspect", "-f", fmt, n).stdout.split() == \
        [str(128 << 20), "500000000", "33", "unless-stopped"]
    r = daemon.docker("exec", n, "cat", "/sys/fs/cgroup/pids/pids.max")
    assert r.stdout.strip() == "33"
    r = daemon.docker("update", "--memory", "512m", n)
    assert r.returncode == 1
    assert "Error response from daemon: Cannot update container" in r.stderr
    assert "update the memoryswap at the same time" in r.stderr
    r = daemon.docker("update", "--blkio-weight", "300", n)
    assert r.returncode == 0  # discarded with docker's warning where the kernel lacks it


def test_docker_run_host_options(daemon):
    """What the docker CLI sends for --ulimit/--sysctl/--shm-size/--group-add/
    --oom-score-adj/--device/--pid reaches the container."""
    r = daemon.docker("run", "--rm", "--ulimit", "nofile=100:200", "--sysctl",
                      "net.core.somaxconn=1024", "--shm-size", "16m", "--group-add", "33",
                      "--oom-score-adj", "7", "--device", "/dev/zero:/dev/z", "--pid", "host",
                      "busybox", "sh", "-c",
                      "ulimit -n; ulimit -Hn; cat /proc/sys/net/core/somaxconn; "
                      "df -k /dev/shm | tail -1 | awk '{print $2}'; id -G; "
                      "cat /proc/self/oom_score_adj; head -c 3 /dev/z | od -An -tx1; "
                      "test -d /proc/1/ns && readlink /proc/1/exe >/dev/null 2>&1; "
                      "cat /proc/1/comm")
    assert r.returncode == 0, r.stderr
    lines = r.stdout.split("\n")
    assert lines[:7] == ["100", "200", "1024", "16384", "0 33", "7", " 00 00 00"], r.stdout
    assert lines[7] != "sh"  # the host's pid 1, not the container's shell
    r = daemon.docker("run", "--rm", "--sysctl", "kernel.hostname=x", "busybox", "true")
    assert r.returncode == 125 and "sysctl 'kernel.hostname=x' is not allowed" in r.stderr
