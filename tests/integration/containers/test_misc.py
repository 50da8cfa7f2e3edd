"""exec/attach details, pause, rename, top, stats, port, events, prune."""
from __future__ import annotations

import json
import subprocess
import threading

import pytest

from tests.helpers.daemon import dockyard_bin

pytestmark = pytest.mark.root


def test_exec_env_user_workdir_and_stdin(daemon, ctr):
    n = ctr.name("ex")
    daemon.cli("run", "-d", "--name", n, "busybox", "sleep", "1000", check=True)
    r = daemon.cli("exec", "-e", "X=7", "-u", "65534", "-w", "/tmp", n, "sh", "-c",
                   "echo $X $(id -u) $(pwd)")
    assert r.stdout.strip() == "7 65534 /tmp"
    r = daemon.cli("exec", "-i", n, "cat", input="piped\n")
    assert r.stdout == "piped\n"
    assert daemon.cli("exec", "-d", n, "sh", "-c", "echo bg > /tmp/bg").returncode == 0
    while daemon.cli("exec", n, "cat", "/tmp/bg").stdout != "bg\n":
        pass


def test_run_interactive_stdin(daemon):
    r = daemon.cli("run", "--rm", "-i", "busybox", "sh", "-c", "wc -l", input="a\nb\nc\n")
    assert (r.returncode, r.stdout.strip()) == (0, "3")


def test_attach_to_running_container(daemon, ctr):
    n = ctr.name("at")
    daemon.cli("run", "-d", "-i", "--name", n, "busybox", "sh", "-c",
               "read line; echo got:$line", check=True)
    r = daemon.cli("attach", n, input="hello\n")
    assert r.stdout == "got:hello\n"


def test_pause_unpause_rename_top_stats(daemon, ctr):
    n, m = ctr.name("pz"), ctr.name("renamed")
    daemon.cli("run", "-d", "--name", n, "busybox", "sleep", "1000", check=True)
    assert daemon.cli("pause", n).returncode == 0
    assert daemon.cli("inspect", "-f", "{{.State.Status}}", n).stdout.strip() == "paused"
    assert "(Paused)" in daemon.cli("ps", "--filter", f"name={n}").stdout
    assert daemon.cli("unpause", n).returncode == 0
    assert daemon.cli("rename", n, m).returncode == 0
    top = daemon.cli("top", m).stdout
    assert "PID" in top.splitlines()[0] and "sleep 1000" in top
    stats = daemon.cli("stats", "--no-stream", m).stdout
    assert stats.splitlines()[0].startswith("CONTAINER ID") and m in stats


def test_events_stream_container_actions(daemon, ctr):
    n = ctr.name("ev")
    proc = subprocess.Popen([*daemon_cli(daemon), "events", "--filter", f"container={n}",
                             "--format", "{{.Action}}"], stdout=subprocess.PIPE, text=True,
                            env=daemon.env)
    try:
        daemon.cli("run", "--name", n, "busybox", "true", check=True)
        seen = []
        for line in proc.stdout:
            seen.append(line.strip())
            if "die" in seen:
                break
        assert seen[:3] == ["create", "start", "die"] or "start" in seen
    finally:
        proc.kill()
        proc.wait()


def daemon_cli(daemon):
    from tests.helpers.daemon import dockyard_bin
    return [dockyard_bin("dockyard")]


def test_container_prune(daemon):
    daemon.cli("create", "--name", "prune-me", "busybox", "true", check=True)
    r = daemon.cli("container", "prune", "-f")
    assert "prune-me" not in daemon.cli("ps", "-a", "--format", "{{.Names}}").stdout
    assert "Total reclaimed space" in r.stdout


def test_publish_and_port(daemon, ctr):
    n = ctr.name("pub")
    daemon.cli("run", "-d", "--name", n, "-p", "127.0.0.1:18080:80", "busybox", "sleep", "100",
               check=True)
    assert daemon.cli("port", n).stdout.strip() == "80/tcp -> 127.0.0.1:18080"
    assert "127.0.0.1:18080->80/tcp" in daemon.cli("ps", "--filter", f"name={n}").stdout


def test_init_is_pid_1(daemon):
    r = daemon.cli("run", "--rm", "--init", "busybox", "cat", "/proc/1/cmdline")
    assert r.returncode == 0 and r.stdout.startswith("/sbin/docker-init")


def test_health_check_turns_healthy(daemon, ctr):
    n = ctr.name("hc")
    daemon.cli("run", "-d", "--name", n, "--health-cmd", "test -f /tmp/ok",
               "--health-interval", "200ms", "--health-retries", "1", "busybox", "sh", "-c",
               "touch /tmp/ok; exec sleep 1000", check=True)
    while daemon.cli("inspect", "-f", "{{.State.Health.Status}}", n).stdout.strip() != "healthy":
        pass
    assert "(healthy)" in daemon.cli("ps", "--filter", f"name={n}").stdout
    daemon.cli("exec", n, "rm", "/tmp/ok", check=True)
    while daemon.cli("inspect", "-f", "{{.State.Health.Status}}", n).stdout.strip() != "unhealthy":
        pass


def test_committed_healthcheck_runs(daemon, ctr):
    src, n = ctr.name("hcsrc"), ctr.name("hcimg")
    daemon.cli("create", "--name", src, "busybox", "true", check=True)
    daemon.cli("commit", "-c", "HEALTHCHECK --interval=200ms --retries=1 CMD test -f /tmp/ok",
               src, f"{src}:hc", check=True)
    try:
        daemon.cli("run", "-d", "--name", n, f"{src}:hc", "sh", "-c",
                   "touch /tmp/ok; exec sleep 1000", check=True)
        while daemon.cli("inspect", "-f", "{{.State.Health.Status}}", n).stdout.strip() \
                != "healthy":
            pass
    finally:
        daemon.cli("rm", "-f", n)
        daemon.cli("rmi", f"{src}:hc")


def test_commit_leaves_out_the_etc_mountpoints(daemon, ctr, tmp_path):
    """/etc/hosts, hostname, resolv.conf are bind mounted over empty files the runtime
    makes in the container's layer; a commit must not carry those empty files (they
    would hide the image's own /etc/hosts), as docker's init layer never is committed."""
    import io
    import tarfile
    base, n = ctr.name("etcbase"), ctr.name("etcctr")
    r = daemon.cli("build", "-t", f"{base}:1", "-",
                   input="FROM busybox\nRUN echo base-hosts > /etc/hosts\n")
    assert r.returncode == 0, r.stderr
    try:
        daemon.cli("run", "--name", n, f"{base}:1", "touch", "/newfile", check=True)
        daemon.cli("commit", n, f"{base}:2", check=True)
        saved = subprocess.run([dockyard_bin("dockyard"), "save", f"{base}:2"], env=daemon.env,
                               capture_output=True, timeout=60, check=True).stdout
        with tarfile.open(fileobj=io.BytesIO(saved)) as outer:
            manifest = json.load(outer.extractfile("manifest.json"))[0]
            top = outer.extractfile(manifest["Layers"][-1]).read()
        with tarfile.open(fileobj=io.BytesIO(top)) as layer:
            assert layer.getnames() == ["newfile"]
        c = daemon.cli("create", f"{base}:2", check=True).stdout.strip()
        exported = subprocess.run([dockyard_bin("dockyard"), "export", c], env=daemon.env,
                                  capture_output=True, timeout=60, check=True).stdout
        daemon.cli("rm", c)
        with tarfile.open(fileobj=io.BytesIO(exported)) as fs:
            assert fs.extractfile("etc/hosts").read() == b"base-hosts\n"
    finally:
        daemon.cli("rm", "-f", n)
        daemon.cli("rmi", f"{base}:2", f"{base}:1")


def test_large_stdin_is_not_lost_or_blocking(daemon):
    data = b"x" * (3 << 20)  # far more than a pipe buffer: written as the process reads
    r = daemon.cli("run", "--rm", "-i", "busybox", "sh", "-c", "sleep 0.5; wc -c", input=data)
    assert r.returncode == 0 and r.stdout.strip() == str(len(data)).encode()


def test_security_opts_and_capability_aware_seccomp(daemon):
    """docker's --security-opt no-new-privileges / seccomp=unconfined, refused otherwise;
    seccomp follows the capabilities: --cap-add SYS_ADMIN allows mount(2)."""
    r = daemon.cli("run", "--rm", "--security-opt", "no-new-privileges", "busybox",
                   "grep", "NoNewPrivs", "/proc/self/status")
    assert r.stdout.split() == ["NoNewPrivs:", "1"], r.stderr
    r = daemon.cli("run", "--rm", "--security-opt", "seccomp=unconfined", "busybox",
                   "grep", "Seccomp:", "/proc/self/status")
    assert r.stdout.split() == ["Seccomp:", "0"], r.stderr
    r = daemon.cli("run", "--rm", "busybox", "grep", "Seccomp:", "/proc/self/status")
    assert r.stdout.split() == ["Seccomp:", "2"], r.stderr
    r = daemon.cli("run", "--rm", "--cap-add", "SYS_ADMIN", "busybox", "sh", "-c",
                   "mkdir -p /mnt && mount -t tmpfs none /mnt && echo mounted")
    assert r.stdout == "mounted\n", r.stderr
    r = daemon.cli("run", "--rm", "busybox", "sh", "-c", "mkdir -p /mnt && mount -t tmpfs none /mnt")
    assert r.returncode != 0
    before = daemon.cli("ps", "-aq").stdout
    r = daemon.cli("create", "--security-opt", "apparmor=custom", "busybox")
    assert r.returncode == 125 and "invalid --security-opt 'apparmor=custom'" in r.stderr
    assert daemon.cli("ps", "-aq").stdout == before
