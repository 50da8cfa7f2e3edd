"""kill -9 of dockyardd: containers keep running in the supervisor; after a restart
ps/logs -f/exec/stop work and a container that exited meanwhile shows its exit code."""
from __future__ import annotations

import signal

import pytest

pytestmark = pytest.mark.root


def test_containers_survive_kill_9_of_the_daemon(fresh_daemon):
    d = fresh_daemon
    d.cli("run", "-d", "--name", "keep", "busybox", "sh", "-c",
          "i=0; while true; do echo tick$i; i=$((i+1)); sleep 0.2; done", check=True)
    d.cli("run", "-d", "--name", "dies", "busybox", "sh", "-c", "sleep 1; exit 42", check=True)
    d.stop(signal.SIGKILL)
    # while no daemon runs: "dies" exits, "keep" keeps logging
    import time
    time.sleep(1.5)  # let "dies" exit while the daemon is down (not a timed assertion)
    d.start()
    ps = d.cli("ps", "-a", "--format", "{{.Names}} {{.Status}}").stdout
    assert "keep Up" in ps
    assert "dies Exited (42)" in ps
    r = d.cli("exec", "keep", "echo", "exec-ok")
    assert (r.returncode, r.stdout) == (0, "exec-ok\n")
    before = d.cli("logs", "keep").stdout.count("tick")
    assert before > 5
    assert d.cli("stop", "-t", "1", "keep").returncode == 0
    assert d.cli("logs", "-f", "keep").stdout.count("tick") >= before  # -f returns: it stopped
    assert d.cli("inspect", "-f", "{{.State.Status}}", "keep").stdout.strip() == "exited"


def test_restart_policy_acts_without_a_client(fresh_daemon):
    d = fresh_daemon
    d.cli("run", "-d", "--name", "flaky", "--restart", "on-failure:2", "busybox", "sh", "-c",
          "echo run; exit 1", check=True)
    d.cli("wait", "flaky")
    while d.cli("inspect", "-f", "{{.RestartCount}} {{.State.Status}}",
                "flaky").stdout.strip() != "2 exited":
        d.cli("wait", "flaky")
    assert d.cli("logs", "flaky").stdout == "run\nrun\nrun\n"
    d.cli("rm", "-f", "flaky")


def test_lost_supervisor_leaves_no_orphans_and_always_restarts(fresh_daemon):
    import os
    d = fresh_daemon
    d.cli("run", "-d", "--name", "orph", "busybox", "sleep", "1000", check=True)
    d.cli("run", "-d", "--name", "back", "--restart", "always", "busybox", "sleep", "1000",
          check=True)
    pid = int(d.cli("inspect", "-f", "{{.State.Pid}}", "orph").stdout)
    d.stop(signal.SIGKILL)
    sup = os.path.join(d.exec_root, "supervisor.sock")
    for line in os.popen("pgrep -f 'dockyard.supervisor.server --exec-root " + d.exec_root + "'"):
        os.kill(int(line), signal.SIGKILL)
    os.unlink(sup)
    d.start()
    assert d.cli("inspect", "-f", "{{.State.Status}} {{.State.ExitCode}}",
                 "orph").stdout.split() == ["exited", "255"]
    while True:  # the old process is gone (reaped by init after the runtime killed it)
        try:
            with open(f"/proc/{pid}/stat") as f:
                if f.read().split(")")[1].split()[0] == "Z":
                    break
        except FileNotFoundError:
            break
    while d.cli("inspect", "-f", "{{.State.Status}}", "back").stdout.strip() != "running":
        pass
    d.cli("rm", "-f", "orph", "back")
