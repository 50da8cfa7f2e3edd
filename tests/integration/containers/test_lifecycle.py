"""run/create/start/ps/logs/stop/kill/rm/wait/inspect through dockyard's own CLI."""
from __future__ import annotations

import json

import pytest

pytestmark = pytest.mark.root


def test_run_attached_streams_output_and_exit_code(daemon, ctr):
    n = ctr.name("att")
    r = daemon.cli("run", "--name", n, "busybox", "sh", "-c", "echo out; echo err >&2; exit 5")
    assert r.returncode == 5
    assert r.stdout == "out\n"
    assert r.stderr == "err\n"
    ps = daemon.cli("ps", "-a", "--filter", f"name={n}", "--format", "{{.Status}}").stdout
    assert ps.startswith("Exited (5)")


def test_run_rm_never_loses_first_output_and_leaves_nothing(daemon):
    for _ in range(5):
        r = daemon.cli("run", "--rm", "busybox", "echo", "hi")
        assert (r.returncode, r.stdout) == (0, "hi\n")
    assert daemon.cli("ps", "-aq").stdout.strip() == ""


def test_detached_lifecycle(daemon, ctr):
    n = ctr.name("det")
    r = daemon.cli("run", "-d", "--name", n, "busybox", "sh", "-c",
                   "echo started; trap 'echo bye; exit 3' TERM; while true; do sleep 0.1; done")
    cid = r.stdout.strip()
    assert r.returncode == 0 and len(cid) == 64
    ps = daemon.cli("ps", "--no-trunc").stdout
    assert cid in ps and n in ps and "Up " in ps
    assert ps.splitlines()[0].split() == ["CONTAINER", "ID", "IMAGE", "COMMAND", "CREATED",
                                          "STATUS", "PORTS", "NAMES"]
    assert daemon.cli("stop", n).stdout.strip() == n
    assert daemon.cli("wait", n).stdout.strip() == "3"
    assert daemon.cli("logs", n).stdout == "started\nbye\n"
    info = json.loads(daemon.cli("inspect", n).stdout)[0]
    assert info["Id"] == cid and info["Name"] == "/" + n
    assert info["State"]["Status"] == "exited" and info["State"]["ExitCode"] == 3
    assert daemon.cli("rm", n).returncode == 0
    assert "No such container" in daemon.cli("inspect", "--type", "container", n).stderr


def test_create_then_start_attached(daemon, ctr):
    n = ctr.name("cs")
    assert daemon.cli("create", "--name", n, "busybox", "echo", "created").returncode == 0
    status = daemon.cli("ps", "-a", "--filter", f"name={n}", "--format", "{{.Status}}").stdout
    assert status.strip() == "Created"
    r = daemon.cli("start", "-a", n)
    assert (r.returncode, r.stdout) == (0, "created\n")


def test_kill_signal_and_restart(daemon, ctr):
    n = ctr.name("kill")
    daemon.cli("run", "-d", "--name", n, "busybox", "sleep", "1000", check=True)
    assert daemon.cli("kill", "-s", "KILL", n).returncode == 0
    assert daemon.cli("wait", n).stdout.strip() == "137"
    assert daemon.cli("restart", n).returncode == 0
    st = json.loads(daemon.cli("inspect", n).stdout)[0]["State"]
    assert st["Running"] is True


def test_illegal_transitions_are_409_with_dockers_words(daemon, ctr):
    n = ctr.name("ill")
    daemon.cli("run", "-d", "--name", n, "busybox", "sleep", "1000", check=True)
    r = daemon.cli("rm", n)
    assert r.returncode == 1
    assert "container is running: stop the container before removing or force remove" in r.stderr
    daemon.cli("kill", n, check=True)
    daemon.cli("wait", n)
    r = daemon.cli("kill", n)
    assert r.returncode == 1 and "is not running" in r.stderr
    assert daemon.cli("stop", n).returncode == 0  # 304: docker prints the name, exit 0


def test_run_errors_exit_125_and_leave_nothing(daemon):
    before = daemon.cli("ps", "-aq").stdout
    cases = [(["-m", "5zb"], "invalid size"), (["-p", "abc"], "abc"),
             (["--restart", "sometimes"], "restart policy"),
             (["--mount", "type=bind,source=/nonexistent-dir,target=/x"],
              "bind source path does not exist")]
    for flags, text in cases:
        r = daemon.cli("run", "--rm", *flags, "busybox", "true")
        assert r.returncode == 125, (flags, r.stderr)
        assert text in r.stderr
    r = daemon.cli("run", "--rm", "busybox", "no-such-command")
    assert r.returncode == 127 and "executable file not found" in r.stderr
    assert daemon.cli("ps", "-aq").stdout == before


def test_name_conflict(daemon, ctr):
    n = ctr.name("dup")
    daemon.cli("create", "--name", n, "busybox", "true", check=True)
    r = daemon.cli("create", "--name", n, "busybox", "true")
    assert r.returncode == 125
    assert f'The container name "/{n}" is already in use' in r.stderr


def test_ps_filters_quiet_and_format(daemon, ctr):
    a, b = ctr.name("fa"), ctr.name("fb")
    daemon.cli("run", "-d", "--name", a, "-l", "tier=web", "busybox", "sleep", "100", check=True)
    daemon.cli("create", "--name", b, "busybox", "true", check=True)
    names = daemon.cli("ps", "-a", "--filter", "label=tier=web", "--format", "{{.Names}}").stdout
    assert names.split() == [a]
    created = daemon.cli("ps", "-a", "--filter", "status=created", "--format", "{{.Names}}").stdout
    assert b in created.split() and a not in created.split()
    assert len(daemon.cli("ps", "-q", "--filter", f"name={a}").stdout.strip()) == 12
    assert daemon.cli("ps", "-a", "-n", "1", "--format", "{{.Names}}").stdout.strip() == b


def test_env_workdir_user_hostname(daemon, ctr):
    r = daemon.cli("run", "--rm", "-e", "A=1", "-w", "/tmp", "-u", "65534:65534", "-h", "box",
                   "busybox", "sh", "-c", "echo $A $(pwd) $(id -u):$(id -g) $(hostname)")
    assert r.stdout.strip() == "1 /tmp 65534:65534 box"


def test_docker_default_security(daemon):
    r = daemon.cli("run", "--rm", "busybox", "sh", "-c",
                   "grep CapEff /proc/self/status; grep ' /proc/sys ' /proc/self/mountinfo; "
                   "grep -c ' /etc/hostname ' /proc/self/mountinfo")
    assert "CapEff:\t00000000a80425fb" in r.stdout  # docker's 14 capabilities
    assert " /proc/sys ro," in r.stdout          # docker's read-only paths
    assert r.stdout.splitlines()[-1] == "1"       # its own /etc/hostname bind mount


def test_log_drivers_none_and_local(daemon, ctr):
    quiet = ctr.name("nolog")
    r = daemon.cli("run", "--name", quiet, "--log-driver", "none", "busybox", "echo", "attached")
    assert r.returncode == 0 and r.stdout == "attached\n"  # attach does not need the log
    logs = daemon.cli("logs", quiet)
    assert logs.returncode == 1
    assert "configured logging driver does not support reading" in logs.stderr
    info = json.loads(daemon.cli("inspect", quiet, check=True).stdout)[0]
    assert info["LogPath"] == "" and info["HostConfig"]["LogConfig"]["Type"] == "none"
    local = ctr.name("local")
    daemon.cli("run", "--name", local, "--log-driver", "local", "--log-opt", "max-file=2",
               "busybox", "sh", "-c", "echo kept", check=True)
    assert daemon.cli("logs", local).stdout == "kept\n"
    info = json.loads(daemon.cli("inspect", local, check=True).stdout)[0]
    assert info["HostConfig"]["LogConfig"] == {"Type": "local", "Config": {"max-file": "2"}}
    for flags, message in ((["--log-driver", "syslog"], "not supported by dockyard"),
                           (["--log-driver", "nosuch"], "no log driver named 'nosuch'"),
                           (["--log-driver", "local", "--log-opt", "tag=x"],
                            "unknown log opt 'tag' for local log driver")):
        bad = daemon.cli("run", "--rm", *flags, "busybox", "true")
        assert bad.returncode == 125 and message in bad.stderr, bad.stderr


def test_logs_tail_timestamps_and_follow(daemon, ctr):
    n = ctr.name("logs")
    daemon.cli("run", "-d", "--name", n, "busybox", "sh", "-c",
               "for i in 1 2 3 4 5; do echo line$i; done; sleep 1; echo last", check=True)
    while "line5" not in daemon.cli("logs", n).stdout:
        pass
    r = daemon.cli("logs", "-f", "--tail", "2", n)  # returns when the container exits
    lines = r.stdout.splitlines()
    assert lines[-1] == "last" and len(lines) <= 3 and "line5" in lines
    ts = daemon.cli("logs", "-t", "--tail", "1", n).stdout
    assert ts.split(" ", 1)[1] == "last\n" and ts[:4].isdigit()
