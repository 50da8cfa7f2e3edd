"""docker update's rules on a HostConfig (engine/container_update.py), without a daemon."""
import pytest

from dockyard.engine import container_update as cu
from dockyard.errors import Conflict, InvalidArgument

MiB = 2 ** 20
HOST = (2, {0, 1}, True)  # CPUs, online set, blkio weight settable


def _check(req, blkio=True):
    warnings = []
    return cu.check(cu.requested(req), HOST[0], HOST[1], blkio, warnings), warnings


def test_zero_and_empty_mean_unchanged():
    assert cu.requested({"Memory": 0, "CpusetCpus": "", "CpuShares": None,
                         "PidsLimit": 0, "Other": 5}) == {"PidsLimit": 0}
    with pytest.raises(InvalidArgument, match="invalid Memory"):
        cu.requested({"Memory": "lots"})


@pytest.mark.parametrize("req,message", [
    ({"Memory": MiB}, "Minimum memory limit allowed is 6MB"),
    ({"Memory": 64 * MiB, "MemorySwap": 32 * MiB}, "memoryswap limit should be larger"),
    ({"MemoryReservation": MiB}, "Minimum memory reservation allowed is 6MB"),
    ({"Memory": 16 * MiB, "MemoryReservation": 32 * MiB}, "can not be less than memory reserv"),
    ({"NanoCpus": 10**9, "CpuQuota": 50000}, "Nano CPUs and CPU Quota cannot both be set"),
    ({"NanoCpus": 3 * 10**9}, "Range of CPUs is from 0.01 to 2.00, as there are only 2 CPUs"),
    ({"CpuPeriod": 500}, "CPU cfs period can not be less than 1ms"),
    ({"CpuQuota": 500}, "CPU cfs quota can not be less than 1ms"),
    ({"BlkioWeight": 5}, "Range of blkio weight is from 10 to 1000"),
    ({"CpusetCpus": "0-3"}, "Requested CPUs are not available - requested 0-3, available: 0-1"),
    ({"CpusetCpus": "a-b"}, "Invalid value a-b for cpuset cpus"),
    ({"CpusetMems": "1-0"}, "Invalid value 1-0 for cpuset mems"),
])
def test_bad_values_are_400s(req, message):
    with pytest.raises(InvalidArgument, match=message):
        _check(req)


def test_what_the_kernel_cannot_do_is_discarded_with_a_warning():
    req, warnings = _check({"BlkioWeight": 300, "KernelMemory": 50 * MiB, "PidsLimit": -1},
                           blkio=False)
    assert req == {"PidsLimit": 0}
    assert warnings == [cu.NO_KERNEL_MEMORY, cu.NO_BLKIO_WEIGHT]


def test_merge_conflicts_with_what_is_set():
    with pytest.raises(Conflict, match="Nano CPUs cannot be updated as CPU Quota has already"):
        cu.merge({"CpuQuota": 50000}, {"NanoCpus": 10**9}, None)
    with pytest.raises(Conflict, match="CPU Period cannot be updated as NanoCPUs has already"):
        cu.merge({"NanoCpus": 10**9}, {"CpuPeriod": 50000}, None)
    with pytest.raises(Conflict, match="Memory limit should be smaller than already set"):
        cu.merge({"Memory": 64 * MiB, "MemorySwap": 128 * MiB}, {"Memory": 200 * MiB}, None)
    with pytest.raises(Conflict, match="Memory limit should be smaller"):
        cu.merge({}, {"Memory": 200 * MiB}, None)  # no swap limit yet: docker's rule too
    with pytest.raises(Conflict, match="AutoRemove is enabled"):
        cu.merge({"AutoRemove": True}, {}, {"Name": "always", "MaximumRetryCount": 0})


def test_merge_keeps_the_rest_and_returns_a_copy():
    current = {"Memory": 64 * MiB, "MemorySwap": 128 * MiB, "CpuShares": 512,
               "RestartPolicy": {"Name": "no", "MaximumRetryCount": 0}}
    new = cu.merge(current, {"Memory": 100 * MiB, "PidsLimit": 0},
                   {"Name": "on-failure", "MaximumRetryCount": 3})
    assert new == {"Memory": 100 * MiB, "MemorySwap": 128 * MiB, "CpuShares": 512,
                   "PidsLimit": 0, "RestartPolicy": {"Name": "on-failure",
                                                     "MaximumRetryCount": 3}}
    assert current["Memory"] == 64 * MiB


def test_live_resources_name_only_what_changed():
    assert cu.live_resources({"NanoCpus": 1_500_000_000, "Memory": 100 * MiB,
                              "MemorySwap": -1, "PidsLimit": 0, "CpusetCpus": "1",
                              "BlkioWeight": 300}) == {
        "memory": {"limit": 100 * MiB, "swap": -1},
        "cpu": {"period": 100000, "quota": 150000, "cpus": "1"},
        "pids": {"limit": 0}, "blockIO": {"weight": 300}}
    assert cu.live_resources({}) == {}


def test_cpuset_lists():
    assert cu.parse_cpuset("0-2,5, 7", "x") == {0, 1, 2, 5, 7}
    assert cu.format_cpuset({0, 1, 2, 5, 7, 8}) == "0-2,5,7-8"
    assert cu.format_cpuset(set()) == ""


def test_create_gets_docker_swap_default(monkeypatch):
    monkeypatch.setattr(cu, "host_limits", lambda: (2, {0, 1}, False))
    hc = {"Memory": 64 * MiB, "BlkioWeight": 300}
    warnings = []
    cu.check_create(hc, warnings)
    assert hc == {"Memory": 64 * MiB, "MemorySwap": 128 * MiB, "BlkioWeight": 0}
    assert warnings == [cu.NO_BLKIO_WEIGHT]
    hc = {"PidsLimit": -1}
    cu.check_create(hc, [])
    assert hc == {"PidsLimit": None}
    with pytest.raises(InvalidArgument, match="always set the Memory limit when using Memor"):
        cu.check_create({"MemorySwap": 64 * MiB}, [])
