"""stats with real numbers: a container burns CPU (user and kernel time), writes a file
with ``dd conv=fsync`` and serves a 20 kB file to the host over the test daemon's
bridge; the API's sample, the CPU % from stream=false, the stream's precpu and the
CLI's columns are checked against that. Only the test daemon's bridge and namespaces
carry traffic.

Block I/O on this machine: the kernel (6.9+) counts v1 ``blkio.throttle.*`` only on a
queue where a throttle rule was ever set, so the container's counters stay at
"Total 0", as dockerd would show them too; the test asserts that the API reports
exactly what the cgroup's files say (and a write when the kernel counts one).
"""
from __future__ import annotations

import json
import os
import time
import urllib.request

import pytest

from dockyard.cli.commands.stats import block_io, cpu_percent
from dockyard.runtime import cgroups
from tests.helpers.daemon import Daemon

pytestmark = pytest.mark.root

ZERO = "0001-01-01T00:00:00Z"
# user time: a shell loop; kernel time: 300k one-byte read/write syscalls; a 1 MiB
# file written and fsynced; an httpd serving 20 kB; /ready when all that is done
WORKLOAD = ("mkdir -p /www && head -c 20000 /dev/zero > /www/blob && httpd -p 8080 -h /www"
            " && i=0; while [ $i -lt 150000 ]; do i=$((i+1)); done;"
            " dd if=/dev/zero of=/dev/null bs=1 count=300000 2>/dev/null;"
            " dd if=/dev/zero of=/data.bin bs=64k count=16 conv=fsync 2>/dev/null;"
            " touch /ready; exec sleep 1000")


def _wait_ready(d: Daemon, name: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if d.cli("exec", name, "test", "-f", "/ready").returncode == 0:
            return
        time.sleep(0.2)
    raise AssertionError(f"{name} did not finish its workload: {d.cli('logs', name)}")


def _fetch_blob(d: Daemon, name: str) -> None:
    ip = d.client.get(f"/containers/{name}/json")["NetworkSettings"]["IPAddress"]
    with urllib.request.urlopen(f"http://{ip}:8080/blob", timeout=10) as r:
        assert len(r.read()) == 20000


def _blkio_file(cid: str, name: str) -> list[dict]:
    """The kernel's own counters for the container (v1), as the runtime parses them."""
    from dockyard.runtime.cgroups.v1 import _blkio_entries
    return _blkio_entries(f"/sys/fs/cgroup/blkio/dockyard/{cid}/{name}")


def test_stats_real_numbers(daemon, ctr):
    n = ctr.name("stats")
    cid = daemon.cli("run", "-d", "--name", n, "busybox", "sh", "-c", WORKLOAD,
                     check=True).stdout.strip()
    _wait_ready(daemon, n)
    _fetch_blob(daemon, n)
    c = daemon.client

    t0 = time.monotonic()
    s = c.get(f"/containers/{n}/stats", {"stream": 0})
    first_took = time.monotonic() - t0
    assert s["id"] == cid and s["name"] == "/" + n

    cpu = s["cpu_stats"]
    usage = cpu["cpu_usage"]
    assert usage["total_usage"] > 0 and usage["usage_in_usermode"] > 0
    assert usage["usage_in_kernelmode"] > 0
    ncpu = os.cpu_count()
    assert cpu["online_cpus"] == ncpu and cpu["system_cpu_usage"] > 0
    assert set(cpu["throttling_data"]) == {"periods", "throttled_periods", "throttled_time"}
    if not cgroups.is_v2():
        assert len(usage["percpu_usage"]) >= ncpu and sum(usage["percpu_usage"]) > 0

    mem = s["memory_stats"]
    assert mem["usage"] > 0 and 0 < mem["limit"] <= os.sysconf("SC_PAGE_SIZE") * \
        os.sysconf("SC_PHYS_PAGES")
    if cgroups.is_v2():
        assert {"anon", "file", "inactive_file"} <= set(mem["stats"])
    else:
        assert {"cache", "rss", "mapped_file", "inactive_file", "total_cache", "total_rss",
                "total_inactive_file", "hierarchical_memory_limit"} <= set(mem["stats"])
        assert mem["max_usage"] >= mem["usage"] and "failcnt" in mem

    # the container received a request and sent 20 kB back: its tx is the big one
    eth0 = s["networks"]["eth0"]
    assert set(s["networks"]) == {"eth0"}
    assert eth0["tx_bytes"] > 20000 > eth0["rx_bytes"] > 0
    assert eth0["rx_packets"] > 0 and eth0["tx_packets"] > 0

    blkio = s["blkio_stats"]
    assert set(blkio) == {"io_service_bytes_recursive", "io_serviced_recursive",
                          "io_queue_recursive", "io_service_time_recursive",
                          "io_wait_time_recursive", "io_merged_recursive",
                          "io_time_recursive", "sectors_recursive"}
    if not cgroups.is_v2():
        kernel = _blkio_file(cid, "blkio.throttle.io_service_bytes_recursive")
        assert blkio["io_service_bytes_recursive"] == kernel
        if any(e["value"] for e in kernel):  # a kernel that counts: our 1 MiB is there
            assert block_io(blkio)[1] >= 1 << 20

    assert s["pids_stats"]["current"] >= 2  # sleep and the httpd

    # stream=false: precpu from a sample taken a moment before (nothing was kept)
    assert s["preread"] != ZERO and s["preread"] < s["read"]
    assert s["precpu_stats"]["system_cpu_usage"] > 0
    assert 0.0 <= cpu_percent(s) <= 100.0 * ncpu
    assert first_took < 5  # one STATS_PRIME_DELAY, not a collector period or two
    # a second request within a few seconds uses the kept sample: no wait, precpu = it
    time.sleep(0.3)
    s2 = c.get(f"/containers/{n}/stats", {"stream": 0})
    assert s2["preread"] == s["read"] and s2["precpu_stats"] == s["cpu_stats"]
    assert 0.0 <= cpu_percent(s2) <= 100.0 * ncpu

    # one-shot: no precpu, as docker
    one = c.get(f"/containers/{n}/stats", {"stream": 0, "one-shot": 1})
    assert one["preread"] == ZERO and one["precpu_stats"]["cpu_usage"]["total_usage"] == 0
    assert one["cpu_stats"]["cpu_usage"]["total_usage"] >= usage["total_usage"]

    # the CLI: NET I/O from the networks, not a constant
    out = daemon.cli("stats", "--no-stream", "--format",
                     "{{.Name}}|{{.CPUPerc}}|{{.NetIO}}|{{.BlockIO}}|{{.PIDs}}", n,
                     check=True).stdout.strip()
    name, pct, netio, blockio, pids = out.split("|")
    assert name == n and pct.endswith("%") and 0 <= float(pct[:-1]) <= 100 * ncpu
    rx, tx = netio.split(" / ")
    assert rx != "0B" and tx.endswith("kB") and float(tx[:-2]) >= 20
    assert " / " in blockio and int(pids) >= 2
    table = daemon.cli("stats", "--no-stream", n, check=True).stdout.splitlines()
    assert table[0].split() == ["CONTAINER", "ID", "NAME", "CPU", "%", "MEM", "USAGE", "/",
                                "LIMIT", "MEM", "%", "NET", "I/O", "BLOCK", "I/O", "PIDS"]
    assert table[1].startswith(cid[:12]) and f" {n} " in table[1]


def test_stats_stream_uses_previous_sample(daemon, ctr):
    n = ctr.name("stats-stream")
    daemon.cli("run", "-d", "--name", n, "busybox", "sh", "-c",
               "while true; do :; done", check=True)
    c = daemon.client
    resp = c.raw("GET", f"/containers/{n}/stats", {"stream": 1})
    try:
        samples, buf = [], b""
        while len(samples) < 3:
            chunk = resp.read1(65536)
            assert chunk, "the stream ended"
            buf += chunk
            while b"\n" in buf:
                line, buf = buf.split(b"\n", 1)
                if line.strip():
                    samples.append(json.loads(line))
    finally:
        resp.close()
    assert samples[0]["preread"] != ZERO  # even the first one has a precpu
    for prev, cur in zip(samples, samples[1:]):
        assert cur["preread"] == prev["read"] and cur["precpu_stats"] == prev["cpu_stats"]
    # a busy loop: up to one CPU's worth (less on a loaded machine), never zero
    for s in samples:
        assert 1.0 < cpu_percent(s) <= 100.0 * os.cpu_count()


def test_stats_host_none_and_stopped(daemon, ctr):
    c = daemon.client
    for mode in ("none", "host"):
        n = ctr.name(f"stats-{mode}")
        daemon.cli("run", "-d", "--name", n, "--network", mode, "busybox", "sleep", "1000",
                   check=True)
        s = c.get(f"/containers/{n}/stats", {"stream": 0, "one-shot": 1})
        assert "networks" not in s, mode
        assert s["memory_stats"]["usage"] > 0
        row = daemon.cli("stats", "--no-stream", "--format", "{{.NetIO}}", n).stdout.strip()
        assert row == "0B / 0B"
    n = ctr.name("stats-stopped")
    daemon.cli("run", "--name", n, "busybox", "true", check=True)
    s = c.get(f"/containers/{n}/stats", {"stream": 0})
    assert s["read"] == ZERO and s["memory_stats"] == {} and "networks" not in s
    row = daemon.cli("stats", "--no-stream", "--format", "{{.CPUPerc}} {{.MemUsage}} {{.PIDs}}",
                     n).stdout.strip()
    assert row == "0.00% 0B / 0B 0"
    from dockyard.errors import InvalidArgument  # docker's 400 for this pair
    with pytest.raises(InvalidArgument, match="cannot have stream=true and one-shot=true"):
        c.get(f"/containers/{n}/stats", {"stream": 1, "one-shot": 1})


def test_stats_with_runc_driver(runc_daemon):
    """``runc events --stats`` has the same keys the engine reads from our runtime."""
    d = runc_daemon
    n = "rstats"
    try:
        d.cli("run", "-d", "--name", n, "busybox", "sh", "-c", WORKLOAD, check=True)
        _wait_ready(d, n)
        _fetch_blob(d, n)
        s = d.client.get(f"/containers/{n}/stats", {"stream": 0})
        usage = s["cpu_stats"]["cpu_usage"]
        assert usage["total_usage"] > 0 and usage["usage_in_usermode"] > 0
        assert usage["usage_in_kernelmode"] > 0
        assert s["memory_stats"]["usage"] > 0 and s["memory_stats"]["stats"]
        assert s["networks"]["eth0"]["tx_bytes"] > 20000
        assert s["pids_stats"]["current"] >= 2
        assert 0.0 <= cpu_percent(s) <= 100.0 * os.cpu_count()
    finally:
        d.cli("rm", "-f", n)
