"""The real docker CLI's ``stats`` against dockyardd: its NET I/O, CPU % and memory
columns come from our samples (a hard-coded figure would show here), and docker-py's
one-shot/stream=false answers have docker's shape."""
from __future__ import annotations

import os
import shutil
import time

import pytest

pytestmark = [pytest.mark.root,
              pytest.mark.skipif(not shutil.which("docker"), reason="docker CLI not installed")]


def _ping_gateway(daemon, name: str) -> None:
    """Traffic on the test daemon's own bridge: ping its gateway from the container."""
    gw = daemon.client.get(f"/containers/{name}/json")["NetworkSettings"]["Gateway"]
    r = daemon.docker("exec", name, "ping", "-c", "3", "-i", "0.2", "-W", "2", gw)
    assert r.returncode == 0, r.stdout + r.stderr


def test_docker_stats_no_stream_shows_real_numbers(daemon, ctr):
    n = ctr.name("dkstats")
    r = daemon.docker("run", "-d", "--name", n, "busybox", "sh", "-c",
                      "i=0; while [ $i -lt 100000 ]; do i=$((i+1)); done; exec sleep 1000")
    assert r.returncode == 0, r.stderr
    cid = r.stdout.strip()
    _ping_gateway(daemon, n)
    r = daemon.docker("stats", "--no-stream", n)
    assert r.returncode == 0, r.stderr
    head, row = r.stdout.splitlines()[:2]
    assert head.split()[:4] == ["CONTAINER", "ID", "NAME", "CPU"]
    assert row.startswith(cid[:12]) and f" {n} " in row
    fmt = "{{.Name}}|{{.CPUPerc}}|{{.MemUsage}}|{{.NetIO}}|{{.BlockIO}}|{{.PIDs}}"
    out = daemon.docker("stats", "--no-stream", "--format", fmt, n).stdout.strip()
    name, cpu, mem, net, blk, pids = out.split("|")
    assert name == n and 0.0 <= float(cpu.rstrip("%")) <= 100.0 * os.cpu_count()
    used, limit = mem.split(" / ")
    assert used != "0B" and limit.endswith(("GiB", "MiB"))
    rx, tx = net.split(" / ")
    assert rx != "0B" and tx != "0B"  # three pings each way, at least
    assert " / " in blk and pids == "1"


def test_docker_stats_cpu_of_a_busy_container(daemon, ctr):
    n = ctr.name("dkbusy")
    r = daemon.docker("run", "-d", "--name", n, "busybox", "sh", "-c", "while true; do :; done")
    assert r.returncode == 0, r.stderr
    time.sleep(0.5)
    out = daemon.docker("stats", "--no-stream", "--format", "{{.CPUPerc}}", n).stdout.strip()
    assert 1.0 < float(out.rstrip("%")) <= 100.0 * os.cpu_count()


def test_dockerpy_stats_shapes(daemon, ctr, dockerpy):
    n = ctr.name("pystats")
    c = dockerpy.containers.run("busybox", "sleep 1000", detach=True, name=n)
    _ping_gateway(daemon, n)
    s = c.stats(stream=False)
    assert s["networks"]["eth0"]["rx_bytes"] > 0 and s["networks"]["eth0"]["tx_bytes"] > 0
    assert s["precpu_stats"]["system_cpu_usage"] > 0 and s["preread"] < s["read"]
    one = c.stats(stream=False, one_shot=True)
    assert one["preread"] == "0001-01-01T00:00:00Z"
    assert one["precpu_stats"]["cpu_usage"]["total_usage"] == 0
    stream = c.stats(decode=True)
    try:
        a, b = next(stream), next(stream)
    finally:
        stream.close()
    assert b["precpu_stats"] == a["cpu_stats"] and b["preread"] == a["read"]
