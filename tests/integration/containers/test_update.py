"""docker update: new limits reach a running container's cgroup (read from inside it),
the record keeps them for later starts, the restart policy changes what the supervisor
does at the next exit, and docker's refusals come with docker's words."""
from __future__ import annotations

import os
import time

import pytest

pytestmark = pytest.mark.root

LIMITS = ("cd /sys/fs/cgroup; cat memory/memory.limit_in_bytes memory/memory.soft_limit_in_bytes "
          "cpu/cpu.cfs_quota_us cpu/cpu.shares pids/pids.max")
MiB = 2 ** 20


def _limits(d, name: str) -> list[str]:
    return d.cli("exec", name, "sh", "-c", LIMITS, check=True).stdout.split()


def test_update_running_then_stopped_container(daemon, ctr):
    d = daemon
    n = ctr.name("upd")
    r = d.cli("run", "-d", "--name", n, "-m", "64m", "busybox", "sleep", "1000")
    assert r.returncode == 0, r.stderr
    hc = d.client.get(f"/containers/{n}/json")["HostConfig"]
    assert (hc["Memory"], hc["MemorySwap"]) == (64 * MiB, 128 * MiB)  # docker's 2 x memory
    # above the swap limit without a new swap limit: docker's 409, nothing changed
    r = d.cli("update", "-m", "200m", n)
    assert r.returncode == 1
    assert "Memory limit should be smaller than already set memoryswap limit" in r.stderr
    assert f"Cannot update container {d.client.get(f'/containers/{n}/json')['Id']}" in r.stderr
    r = d.cli("update", "-m", "200m", "--memory-swap", "400m", "--memory-reservation", "32m",
              "--cpus", "0.5", "-c", "512", "--pids-limit", "40", n)
    assert (r.returncode, r.stdout) == (0, n + "\n"), r.stderr
    assert _limits(d, n) == [str(200 * MiB), str(32 * MiB), "50000", "512", "40"]
    hc = d.client.get(f"/containers/{n}/json")["HostConfig"]
    assert (hc["Memory"], hc["MemorySwap"], hc["NanoCpus"], hc["PidsLimit"]) == \
        (200 * MiB, 400 * MiB, 500_000_000, 40)
    # paused: the cgroup changes all the same
    d.cli("pause", n, check=True)
    try:
        assert d.cli("update", "--pids-limit", "30", n).returncode == 0
    finally:
        d.cli("unpause", n, check=True)
    assert _limits(d, n)[-1] == "30"
    # stopped: the record changes, the next start applies it
    d.cli("stop", "-t", "0", n, check=True)
    assert d.cli("update", "-m", "100m", "--pids-limit", "-1", n).returncode == 0
    d.cli("start", n, check=True)
    assert _limits(d, n)[0] == str(100 * MiB) and _limits(d, n)[-1] == "max"
    events = d.cli("events", "--since", "0", "--until", str(int(time.time()) + 1),
                   "--filter", "event=update", "--filter", f"container={n}",
                   "--format", "{{.Action}}", check=True).stdout.split()
    assert events == ["update"] * 3  # one per successful update, none for the refusal


def test_update_refusals_leave_the_container_alone(daemon, ctr):
    d = daemon
    n = ctr.name("updbad")
    d.cli("run", "-d", "--name", n, "--cpus", "1", "busybox", "sleep", "1000", check=True)
    before = d.client.get(f"/containers/{n}/json")["HostConfig"]
    for args, words in (
            (["--cpu-quota", "50000"], "CPU Quota cannot be updated as NanoCPUs has already"),
            (["-m", "1m", "--memory-swap", "-1"], "Minimum memory limit allowed is 6MB"),
            (["--cpuset-cpus", "0-999"], "Requested CPUs are not available"),
            (["--cpus", "999"], "Range of CPUs is from 0.01 to"),
            (["--blkio-weight", "5"], "Range of blkio weight is from 10 to 1000"),
            (["--restart", "sometimes"], 'invalid argument "sometimes" for "--restart" flag'),
            (["-m", "5zb"], "invalid argument \"5zb\" for \"-m, --memory\" flag")):
        r = d.cli("update", *args, n)
        assert r.returncode != 0 and words in r.stderr, (args, r.stderr)
    assert d.client.get(f"/containers/{n}/json")["HostConfig"] == before
    r = d.cli("update", n)
    assert r.returncode == 1 and "you must provide one or more flags" in r.stderr
    r = d.cli("update", "--pids-limit", "10", "no-such-container-x")
    assert r.returncode == 1 and "No such container: no-such-container-x" in r.stderr


def test_update_restart_policy_acts_at_the_next_exit(daemon, ctr):
    d = daemon
    n = ctr.name("updrs")
    d.cli("run", "-d", "--name", n, "busybox", "sh", "-c", "sleep 1; exit 3", check=True)
    d.cli("update", "--restart", "on-failure:2", n, check=True)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        info = d.client.get(f"/containers/{n}/json")
        if info["RestartCount"] == 2 and info["State"]["Status"] == "exited":
            break
        time.sleep(0.2)
    assert (info["RestartCount"], info["State"]["ExitCode"]) == (2, 3), info["State"]
    assert info["HostConfig"]["RestartPolicy"] == {"Name": "on-failure",
                                                  "MaximumRetryCount": 2}
    auto = ctr.name("updrm")
    d.cli("run", "-d", "--rm", "--name", auto, "busybox", "sleep", "1000", check=True)
    r = d.cli("update", "--restart", "always", auto)
    assert r.returncode == 1
    assert "Restart policy cannot be updated because AutoRemove is enabled" in r.stderr


def test_update_with_runc_driver(runc_daemon):
    d = runc_daemon
    n = "updrunc"
    try:
        d.cli("run", "-d", "--name", n, "-m", "64m", "busybox", "sleep", "1000", check=True)
        r = d.cli("update", "-m", "80m", "--pids-limit", "25", n)
        assert r.returncode == 0, r.stderr
        out = _limits(d, n)
        assert out[0] == str(80 * MiB) and out[-1] == "25"
    finally:
        d.cli("rm", "-f", n)


def test_run_resource_flags_update_also_has(daemon, ctr):
    d = daemon
    n = ctr.name("runres")
    r = d.cli("run", "-d", "--name", n, "--cpu-period", "60000", "--cpu-quota", "30000",
              "--memory-reservation", "16m", "--cpuset-mems", "0", "--blkio-weight", "300",
              "busybox", "sleep", "1000")
    assert r.returncode == 0, r.stderr
    out = d.cli("exec", n, "sh", "-c", "cd /sys/fs/cgroup; cat cpu/cpu.cfs_period_us "
                "cpu/cpu.cfs_quota_us memory/memory.soft_limit_in_bytes cpuset/cpuset.mems",
                check=True).stdout.split()
    assert out == ["60000", "30000", str(16 * MiB), "0"]
    hc = d.client.get(f"/containers/{n}/json")["HostConfig"]
    weight_ok = os.path.exists("/sys/fs/cgroup/blkio/blkio.weight") or \
        os.path.exists("/sys/fs/cgroup/blkio/blkio.bfq.weight")
    assert hc["BlkioWeight"] == (300 if weight_ok else 0)
    if not weight_ok:  # docker's warning on stderr, the container runs all the same
        assert "Your kernel does not support Block I/O weight" in r.stderr
