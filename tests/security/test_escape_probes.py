"""From inside a default dockyard container, try to get out; every attempt must fail.

The probe (probe.c) prints BLOCKED/ESCAPED per attempt; attempts whose outcome only the
host can judge print CHECK and are judged here (is the sacrificial host process still
alive and untraced?). A marker file that exists only on the host tells whether any
path trick reached the host's filesystem.
"""
import os
import signal
import socket
import subprocess
import tempfile
import threading
import time
import uuid

import pytest

pytestmark = pytest.mark.root


@pytest.fixture
def host_marker():
    fd, path = tempfile.mkstemp(prefix="dockyard-host-marker-", dir="/tmp")
    os.close(fd)
    yield path
    os.unlink(path)


@pytest.fixture
def host_process():
    p = subprocess.Popen(["sleep", "300"])
    yield p
    p.kill()
    p.wait()


def _tracer(pid: int) -> int:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("TracerPid:"):
                return int(line.split()[1])
    return 0


def _judge(out: str, host_process, tally, engine: str) -> list[str]:
    bad = []
    for line in out.splitlines():
        parts = line.split()
        if not parts or parts[0] not in ("BLOCKED", "ESCAPED", "CHECK"):
            continue
        verdict, name = parts[0], parts[1]
        if verdict == "CHECK":
            alive = host_process.poll() is None
            verdict = "BLOCKED" if alive and _tracer(host_process.pid) == 0 else "ESCAPED"
        tally.add(engine, name, verdict)
        if verdict != "BLOCKED":
            bad.append(line)
    return bad


def test_probes_from_a_default_container(daemon, probe_image, host_marker, host_process, tally):
    r = daemon.cli("run", "--rm", probe_image, "/probe", host_marker, socket.gethostname(),
                   str(host_process.pid))
    assert "BLOCKED mount-tmpfs" in r.stdout, r.stdout + r.stderr
    bad = _judge(r.stdout, host_process, tally, "dockyard run")
    assert not bad, "\n".join(bad)
    assert open("/proc/sys/kernel/hostname").read().strip() == socket.gethostname()


def test_probes_through_exec(daemon, probe_image, host_marker, host_process, tally):
    name = "probe-" + uuid.uuid4().hex[:8]
    daemon.cli("run", "-d", "--name", name, probe_image, "sleep", "60", check=True)
    try:
        r = daemon.cli("exec", name, "/probe", host_marker, socket.gethostname(),
                       str(host_process.pid))
        assert "BLOCKED mount-tmpfs" in r.stdout, r.stdout + r.stderr
        bad = _judge(r.stdout, host_process, tally, "dockyard exec")
        assert not bad, "\n".join(bad)
    finally:
        daemon.cli("rm", "-f", name)


@pytest.mark.parametrize("fd", [3, 4, 5, 6, 7, 8])
def test_workdir_through_leaked_fd_is_refused_or_contained(daemon, probe_image, fd, tally):
    """CVE-2024-21626: `-w /proc/self/fd/N` must not give a cwd on the host."""
    r = daemon.cli("run", "--rm", "-w", f"/proc/self/fd/{fd}", probe_image,
                   "sh", "-c", "cd ../../../../ && ls /proc/self/cwd/ && cat /proc/self/cwd/etc/hostname")
    host_name = socket.gethostname()
    escaped = r.returncode == 0 and host_name in r.stdout and "probe" not in r.stdout
    tally.add("dockyard run -w", f"workdir-proc-self-fd-{fd} (CVE-2024-21626)",
              "ESCAPED" if escaped else "BLOCKED")
    assert not escaped, r.stdout


def test_runtime_binary_not_writable_during_exec(daemon, probe_image, tally):
    """CVE-2019-5736: the container races `exec`s trying to open /proc/PID/exe for writing."""
    name = "race-" + uuid.uuid4().hex[:8]
    daemon.cli("run", "-d", "--name", name, probe_image, "sleep", "60", check=True)
    try:
        results = {}

        def racer():
            results["r"] = daemon.cli("exec", name, "/probe", "--race-exe", "4")
        t = threading.Thread(target=racer)
        t.start()
        end = time.monotonic() + 4
        while time.monotonic() < end:
            daemon.cli("exec", name, "true")
        t.join(30)
        out = results["r"].stdout
        assert "overwrite-runtime-via-proc-exe" in out, out + results["r"].stderr
        bad = _judge(out, subprocess.Popen(["true"]), tally, "dockyard exec race")
        assert not bad, out
    finally:
        daemon.cli("rm", "-f", name)
