"""dockyard stats: docker CLI's computations (stats_helpers.go) and rendering
(formatter_stats.go), and the verb's imports."""
from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest

from dockyard.cli.commands.stats import (DEFAULT_FORMAT, block_io, bytes_size, cpu_percent,
                                         entry, human_size3, mem_percent, mem_usage_no_cache,
                                         network, render, view)
from tests.unit.cli import test_lean_imports as lean

CID = lean.CID


def sample(**over) -> dict:
    s = {"id": CID, "name": "/web", "read": "2024-01-01T00:00:01.5Z",
         "preread": "2024-01-01T00:00:00.5Z",
         "cpu_stats": {"cpu_usage": {"total_usage": 1_500_000_000,
                                     "percpu_usage": [1, 2, 3, 4]},
                       "system_cpu_usage": 20_000_000_000, "online_cpus": 2},
         "precpu_stats": {"cpu_usage": {"total_usage": 1_000_000_000},
                          "system_cpu_usage": 18_000_000_000, "online_cpus": 2},
         "memory_stats": {"usage": 10 * 1024 * 1024, "limit": 1024 ** 3,
                          "stats": {"total_inactive_file": 2 * 1024 * 1024,
                                    "inactive_file": 1024 * 1024}},
         "networks": {"eth0": {"rx_bytes": 1000, "tx_bytes": 648},
                      "eth1": {"rx_bytes": 200, "tx_bytes": 0}},
         "blkio_stats": {"io_service_bytes_recursive": [
             {"major": 254, "minor": 0, "op": "Read", "value": 4096},
             {"major": 254, "minor": 0, "op": "Write", "value": 1_000_000},
             {"major": 254, "minor": 0, "op": "Sync", "value": 7},
             {"major": 254, "minor": 0, "op": "Total", "value": 1_004_096},
             {"major": 8, "minor": 0, "op": "read", "value": 1000},
             {"major": 8, "minor": 0, "op": "", "value": 99}]},
         "pids_stats": {"current": 3}}
    s.update(over)
    return s


def test_cpu_percent_is_the_delta_over_the_host_delta_times_cpus():
    # 0.5 s of container CPU over 2 s of host CPU time, 2 CPUs: 50 %
    assert cpu_percent(sample()) == pytest.approx(50.0)


def test_cpu_percent_edge_cases():
    s = sample()
    s["cpu_stats"].pop("online_cpus")  # older daemons: the percpu list's length
    assert cpu_percent(s) == pytest.approx(100.0)
    assert cpu_percent(sample(precpu_stats={})) == pytest.approx(
        1.5e9 / 20e9 * 2 * 100)  # no precpu: since boot, as docker's CLI would compute it
    same = sample()
    same["precpu_stats"] = same["cpu_stats"]
    assert cpu_percent(same) == 0.0  # no delta
    back = sample()
    back["precpu_stats"]["cpu_usage"]["total_usage"] = 2_000_000_000  # a restart
    assert cpu_percent(back) == 0.0
    assert cpu_percent({}) == 0.0


def test_memory_without_inactive_file():
    mem = sample()["memory_stats"]
    assert mem_usage_no_cache(mem) == 8 * 1024 * 1024  # v1: total_inactive_file
    v2 = {"usage": 5000, "stats": {"inactive_file": 1000}}
    assert mem_usage_no_cache(v2) == 4000
    assert mem_usage_no_cache({"usage": 5000, "stats": {"total_inactive_file": 9000,
                                                        "inactive_file": 6000}}) == 5000
    assert mem_usage_no_cache({"usage": 5000}) == 5000
    assert mem_usage_no_cache({}) == 0
    assert mem_percent(1000.0, 250.0) == 25.0
    assert mem_percent(0.0, 250.0) == 0.0


def test_block_and_network_sums():
    s = sample()
    assert block_io(s["blkio_stats"]) == (4096 + 1000, 1_000_000)
    assert block_io({}) == (0, 0) and block_io(None) == (0, 0)
    assert network(s["networks"]) == (1200, 648)
    assert network(None) == (0, 0)


@pytest.mark.parametrize("n, text", [
    (0, "0B"), (648, "648B"), (999, "999B"), (1000, "1kB"), (1200, "1.2kB"),
    (1234, "1.23kB"), (20480, "20.5kB"), (999_999, "1e+03kB"), (1_500_000, "1.5MB"),
    (3_000_000_000, "3GB")])
def test_human_size_precision_3(n, text):
    assert human_size3(n) == text


@pytest.mark.parametrize("n, text", [
    (0, "0B"), (1023, "1023B"), (1024, "1KiB"), (532 * 1024, "532KiB"),
    (2_363_392, "2.254MiB"), (int(23.54 * 1024 ** 3), "23.54GiB"), (1024 ** 4, "1TiB")])
def test_bytes_size_binary(n, text):
    assert bytes_size(n) == text


def test_view_renders_docker_columns():
    v = view(entry("web", sample()))
    assert v == {"BlockIO": "5.1kB / 1MB", "CPUPerc": "50.00%", "Container": "web",
                 "ID": CID[:12], "MemPerc": "0.78%", "MemUsage": "8MiB / 1GiB",
                 "Name": "web", "NetIO": "1.2kB / 648B", "PIDs": "3"}
    assert view(entry("web", sample()), no_trunc=True)["ID"] == CID
    stopped = {"id": CID, "name": "/web", "cpu_stats": {}, "memory_stats": {}}
    v = view(entry("web", stopped))
    assert (v["CPUPerc"], v["MemUsage"], v["MemPerc"], v["NetIO"], v["PIDs"]) == \
        ("0.00%", "0B / 0B", "0.00%", "0B / 0B", "0")
    bad = view(dict(entry("web", sample()), invalid=True))
    assert bad["CPUPerc"] == "--" and bad["MemUsage"] == "-- / --" and bad["Name"] == "--"


def test_render_default_table_and_custom_formats():
    e = entry("web", sample())
    lines = render(DEFAULT_FORMAT, [e]).splitlines()
    assert re.split(r"\s{2,}", lines[0]) == ["CONTAINER ID", "NAME", "CPU %", "MEM USAGE / LIMIT",
                                     "MEM %", "NET I/O", "BLOCK I/O", "PIDS"]
    assert lines[1].split() == [CID[:12], "web", "50.00%", "8MiB", "/", "1GiB", "0.78%",
                                "1.2kB", "/", "648B", "5.1kB", "/", "1MB", "3"]
    assert render("{{.Container}}: {{.CPUPerc}}", [e, e]) == "web: 50.00%\nweb: 50.00%"
    t = render("table {{.Container}}\t{{.NetIO}}", [e]).splitlines()
    assert re.split(r"\s{2,}", t[0]) == ["CONTAINER", "NET I/O"]


# -- the verb against a fake daemon: output and imports --------------------------------

STATS = sample()
fake_daemon = lean.fake_daemon


@pytest.fixture
def stats_answers(monkeypatch):
    plain = lean._answer

    def answer(method, path):
        p = path.split("?", 1)[0]
        if method == "GET" and p.endswith("/stats"):
            return 200, STATS, False
        return plain(method, path)
    monkeypatch.setattr(lean, "_answer", answer)


def _probe(fake_daemon, argv):
    env = dict(os.environ, DOCKYARD_HOST=fake_daemon, DOCKYARD_NO_AUTOSTART="1")
    r = subprocess.run([sys.executable, "-S", "-c", lean.PROBE.format(repo=lean.REPO,
                                                                      argv=argv)],
                       env=env, capture_output=True, text=True, timeout=60)
    assert "MODULES" in r.stderr, r.stderr
    report = r.stderr.rsplit("MODULES ", 1)[1]
    modules = set(report.split("\n", 1)[0].split())
    assert int(report.split("RC ", 1)[1]) == 0, (r.stdout, r.stderr)
    return r.stdout, modules


@pytest.mark.parametrize("argv", [["stats", "--no-stream", "web"], ["stats", "--no-stream"],
                                  ["stats", "--no-stream", "--format",
                                   "table {{.Name}}\\t{{.NetIO}}", "web", "web"]])
def test_stats_no_stream_output_and_lean_imports(fake_daemon, stats_answers, argv):
    out, modules = _probe(fake_daemon, argv)
    heavy = {m for m in modules if m.split(".")[0] in lean.HEAVY}
    assert not heavy, f"dockyard {' '.join(argv)} imported {sorted(heavy)}"
    lines = out.splitlines()
    if "--format" in argv:
        assert lines == ["NAME      NET I/O", "web       1.2kB / 648B", "web       1.2kB / 648B"]
    else:
        assert lines[0].startswith("CONTAINER ID")
        assert lines[1].split()[:3] == [CID[:12], "web", "50.00%"]
        assert "1.2kB / 648B" in lines[1] and "5.1kB / 1MB" in lines[1]
