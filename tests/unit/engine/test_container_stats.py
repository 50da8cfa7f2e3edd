"""engine/container_stats.py (docker's stats shape from runtime numbers) and the
container service's precpu choice (a kept sample, else a primed one)."""
from __future__ import annotations

import time

import pytest

from dockyard.engine import container_stats as cs
from dockyard.engine.container_ops import OpsMixin

REC = {"Id": "a" * 64, "Name": "/web",
       "State": {"Running": True, "StartedAt": "2024-01-01T00:00:00Z", "Pid": 0},
       "HostConfig": {"NetworkMode": "none"}}
# what dockyard's v1 driver and ``runc events --stats`` both give
RAW = {"cpu": {"usage": {"total": 900, "percpu": [400, 500], "kernel": 100, "user": 800},
               "throttling": {"periods": 3, "throttledPeriods": 1, "throttledTime": 42}},
       "memory": {"usage": {"usage": 4096, "max": 8192, "limit": 9223372036854771712,
                            "failcnt": 0},
                  "raw": {"cache": 1, "total_inactive_file": 2}},
       "pids": {"current": 2, "limit": 0},
       "blkio": {"ioServiceBytesRecursive": [{"major": 254, "minor": 0, "op": "Read",
                                              "value": 7}],
                 "ioServicedRecursive": [{"major": 254, "minor": 0, "op": "Read",
                                          "value": 1}]}}
NET_DEV = """Inter-|   Receive                                                |  Transmit
 face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed
    lo:     100       1    0    0    0     0          0         0      100       1    0    0    0     0       0          0
  eth0:12345678      16    1    2    0     0          0         0      648       8    3    4    0     0       0          0
 tunl0:       0       0    0    0    0     0          0         0        0       0    0    0    0     0       0          0
"""


def test_docker_shape_from_runtime_numbers():
    s = cs.docker_stats(REC, RAW, {"eth0": {"rx_bytes": 1}}, system=(10**12, 2))
    assert list(s) == ["read", "preread", "pids_stats", "blkio_stats", "num_procs",
                       "storage_stats", "cpu_stats", "precpu_stats", "memory_stats", "name",
                       "id", "networks"]
    assert s["read"].endswith("Z") and len(s["read"]) == len("2024-01-01T00:00:00.123456789Z")
    assert s["preread"] == cs.ZERO_TIME
    assert s["cpu_stats"] == {
        "cpu_usage": {"total_usage": 900, "usage_in_kernelmode": 100,
                      "usage_in_usermode": 800, "percpu_usage": [400, 500]},
        "system_cpu_usage": 10**12, "online_cpus": 2,
        "throttling_data": {"periods": 3, "throttled_periods": 1, "throttled_time": 42}}
    mem = s["memory_stats"]
    assert mem["usage"] == 4096 and mem["max_usage"] == 8192 and mem["failcnt"] == 0
    assert mem["stats"] == {"cache": 1, "total_inactive_file": 2}
    assert 0 < mem["limit"] < 9223372036854771712  # unlimited: the host's memory
    assert s["pids_stats"] == {"current": 2}
    assert s["blkio_stats"]["io_service_bytes_recursive"] == [
        {"major": 254, "minor": 0, "op": "Read", "value": 7}]
    assert s["blkio_stats"]["io_serviced_recursive"][0]["value"] == 1
    assert s["blkio_stats"]["sectors_recursive"] == []
    assert s["networks"] == {"eth0": {"rx_bytes": 1}}
    assert s["precpu_stats"]["cpu_usage"]["total_usage"] == 0


def test_docker_shape_v2_and_empty():
    v2 = {"cpu": {"usage": {"total": 5, "percpu": [], "kernel": 1, "user": 4}},
          "memory": {"usage": {"usage": 10, "max": 0, "limit": -1}, "raw": {"anon": 10}},
          "pids": {"current": 1, "limit": 50}}
    s = cs.docker_stats(REC, v2, None, system=(1, 1))
    assert "percpu_usage" not in s["cpu_stats"]["cpu_usage"]  # v2 has none, as docker
    assert "max_usage" not in s["memory_stats"] and "failcnt" not in s["memory_stats"]
    assert s["memory_stats"]["limit"] > 0 and s["pids_stats"] == {"current": 1, "limit": 50}
    assert "networks" not in s
    s = cs.docker_stats(REC, {}, {}, system=(1, 1))
    assert s["cpu_stats"]["cpu_usage"]["total_usage"] == 0 and "networks" not in s
    assert s["memory_stats"]["usage"] == 0


def test_not_running_is_dockers_zero_answer():
    s = cs.not_running(REC)
    assert s["read"] == s["preread"] == cs.ZERO_TIME
    assert s["memory_stats"] == {} and s["pids_stats"] == {} and "networks" not in s
    assert s["cpu_stats"] == s["precpu_stats"] == cs.empty_cpu()
    assert s["name"] == "/web" and s["id"] == REC["Id"]


def test_parse_net_dev():
    assert cs.parse_net_dev(NET_DEV, {"eth0"}) == {"eth0": {
        "rx_bytes": 12345678, "rx_packets": 16, "rx_errors": 1, "rx_dropped": 2,
        "tx_bytes": 648, "tx_packets": 8, "tx_errors": 3, "tx_dropped": 4}}
    assert set(cs.parse_net_dev(NET_DEV)) == {"eth0", "tunl0"}  # never lo
    assert cs.parse_net_dev("", {"eth0"}) == {}
    assert cs.net_dev(0, {"eth0"}) == {} and cs.net_dev(2 ** 22 + 1, {"eth0"}) == {}


def test_system_cpu(tmp_path):
    import os
    p = tmp_path / "stat"
    p.write_text("cpu  100 0 50 1000 10 0 5 7 0 0\ncpu0 50 0 25 500 5 0 3 0 0 0\n"
                 "cpu1 50 0 25 500 5 0 2 0 0 0\nintr 1 2 3\n")
    total, ncpu = cs.system_cpu(str(p))
    assert total == (100 + 50 + 1000 + 10 + 5) * 10**9 // os.sysconf("SC_CLK_TCK")
    assert ncpu == 2
    assert cs.system_cpu(str(tmp_path / "missing"))[0] == 0
    real_total, real_ncpu = cs.system_cpu()
    assert real_total > 0 and real_ncpu == os.cpu_count()


class FakeService(OpsMixin):
    """The container service's stats path with a counter instead of a cgroup."""
    STATS_PRIME_DELAY = 0.01
    STATS_PREVIOUS_AGE = (0.05, 5.0)

    def __init__(self):
        self.rec = {k: (dict(v) if isinstance(v, dict) else v) for k, v in REC.items()}
        self.taken = 0

    def get(self, ref):
        return self.rec

    def _stats_sample(self, rec):
        if not rec["State"]["Running"]:
            return None
        self.taken += 1
        raw = {"cpu": {"usage": {"total": self.taken * 1000}}}
        return cs.docker_stats(rec, raw, None, system=(self.taken * 10**6, 2))


def test_precpu_primed_then_kept():
    svc = FakeService()
    s1 = svc.stats("web")
    assert svc.taken == 2  # nothing kept: two samples STATS_PRIME_DELAY apart
    assert s1["precpu_stats"]["cpu_usage"]["total_usage"] == 1000
    assert s1["cpu_stats"]["cpu_usage"]["total_usage"] == 2000
    time.sleep(0.06)
    s2 = svc.stats("web")
    assert svc.taken == 3  # the kept sample is the precpu
    assert s2["preread"] == s1["read"] and s2["precpu_stats"] == s1["cpu_stats"]
    s3 = svc.stats("web")  # too close to the kept one for a rate: primed again
    assert svc.taken == 5 and s3["precpu_stats"]["cpu_usage"]["total_usage"] == 4000


def test_precpu_not_kept_across_a_restart_and_one_shot():
    svc = FakeService()
    svc.stats("web")
    time.sleep(0.06)
    svc.rec["State"]["StartedAt"] = "2024-01-02T00:00:00Z"  # counters start over
    svc.stats("web")
    assert svc.taken == 4
    one = svc.stats("web", one_shot=True)
    assert svc.taken == 5 and one["preread"] == cs.ZERO_TIME
    assert one["precpu_stats"] == cs.empty_cpu()


def test_precpu_from_the_stream_and_not_running():
    svc = FakeService()
    prev = svc.stats("web", one_shot=True)
    cur = svc.stats("web", previous=prev)
    assert svc.taken == 2 and cur["precpu_stats"] == prev["cpu_stats"]
    svc.rec["State"]["Running"] = False
    assert svc.stats("web") == cs.not_running(svc.rec)


@pytest.mark.parametrize("mode", ["host", "none", "container:abc"])
def test_no_networks_for_shared_or_no_netns(mode):
    svc = FakeService()
    assert svc._stats_networks(dict(svc.rec, HostConfig={"NetworkMode": mode})) is None
