"""cgroup drivers against fake cgroupfs trees under tmp_path."""
from __future__ import annotations

import os

import pytest

from dockyard.runtime import cgroups
from dockyard.runtime.cgroups.v1 import V1Manager, device_rule
from dockyard.runtime.cgroups.v2 import V2Manager, blkio_to_io_weight, shares_to_weight


def read(path) -> str:
    with open(path) as f:
        return f.read()


@pytest.fixture
def v2root(tmp_path):
    (tmp_path / "cgroup.controllers").write_text("cpu io memory pids cpuset\n")
    (tmp_path / "cgroup.subtree_control").write_text("")
    return tmp_path


@pytest.fixture
def v1root(tmp_path):
    for c in ("cpu", "cpuacct", "cpuset", "memory", "pids", "devices", "freezer", "blkio"):
        (tmp_path / c).mkdir()
    (tmp_path / "cpuset" / "cpuset.cpus").write_text("0-1\n")
    (tmp_path / "cpuset" / "cpuset.mems").write_text("0\n")
    return tmp_path


def test_detects_version(v1root, v2root):
    assert isinstance(cgroups.manager_for("/d/x", str(v2root)), V2Manager)


def test_v2_create_set_destroy(v2root):
    m = V2Manager("/dockyard/c1", str(v2root))
    m.create()
    leaf = v2root / "dockyard" / "c1"
    assert leaf.is_dir()
    assert read(v2root / "cgroup.subtree_control") == "+cpu +io +memory +pids +cpuset"
    assert read(v2root / "dockyard" / "cgroup.subtree_control").startswith("+cpu")
    m.set({"memory": {"limit": 1 << 26, "reservation": 1 << 25, "swap": 1 << 27},
           "cpu": {"shares": 1024, "quota": 50000, "period": 100000, "cpus": "0"},
           "pids": {"limit": 0}, "blockIO": {"weight": 500}})
    assert read(leaf / "memory.max") == str(1 << 26)
    assert read(leaf / "memory.low") == str(1 << 25)
    assert read(leaf / "memory.swap.max") == str((1 << 27) - (1 << 26))
    assert read(leaf / "cpu.weight") == str(shares_to_weight(1024))
    assert read(leaf / "cpu.max") == "50000 100000"
    assert read(leaf / "cpuset.cpus") == "0"
    assert read(leaf / "pids.max") == "max"
    assert read(leaf / "io.weight") == f"default {blkio_to_io_weight(500)}"
    m.apply(4242)
    assert read(leaf / "cgroup.procs") == "4242"
    m.freeze()
    assert m.frozen()
    m.thaw()
    assert not m.frozen()
    for name in os.listdir(leaf):  # a real cgroupfs has no files to delete
        os.unlink(leaf / name)
    for name in os.listdir(v2root / "dockyard"):
        if name != "c1":
            os.unlink(v2root / "dockyard" / name)
    state = m.to_state()
    V2Manager("/dockyard/c1", str(v2root), state).destroy()
    assert not (v2root / "dockyard").exists()


def test_v2_weight_conversions():
    assert shares_to_weight(2) == 1
    assert shares_to_weight(262144) == 10000
    assert blkio_to_io_weight(10) == 1
    assert blkio_to_io_weight(1000) == 10000


def test_v1_create_set(v1root):
    m = V1Manager("/dockyard/c1", str(v1root))
    m.create()
    assert read(v1root / "cpuset" / "dockyard" / "c1" / "cpuset.cpus") == "0-1"
    m.set({"memory": {"limit": 1 << 26, "reservation": 1 << 25},
           "cpu": {"shares": 512, "quota": 20000, "period": 100000, "mems": "0"},
           "pids": {"limit": 10},
           "devices": [{"allow": False, "access": "rwm"},
                       {"allow": True, "type": "c", "major": 1, "minor": 3, "access": "rw"}],
           "blockIO": {"weight": 300}})
    leaf = lambda c, f: read(v1root / c / "dockyard" / "c1" / f)  # noqa: E731
    assert leaf("memory", "memory.limit_in_bytes") == str(1 << 26)
    assert leaf("memory", "memory.soft_limit_in_bytes") == str(1 << 25)
    assert leaf("cpu", "cpu.shares") == "512"
    assert leaf("cpu", "cpu.cfs_quota_us") == "20000"
    assert leaf("cpu", "cpu.cfs_period_us") == "100000"
    assert leaf("pids", "pids.max") == "10"
    assert leaf("blkio", "blkio.bfq.weight") == "300"  # no blkio.weight in the fake tree
    # the last write wins in a plain file; on cgroupfs each write is one rule
    assert leaf("devices", "devices.allow") == "c 10:200 rwm"
    assert len(m.created) == 16
    assert m.to_state()["created"] == m.created


def test_v1_device_rule():
    assert device_rule({"allow": False, "access": "rwm"}) == "a *:* rwm"
    assert device_rule({"type": "c", "major": 136, "minor": -1, "access": "rwm"}) == \
        "c 136:* rwm"
    assert device_rule({"type": "b", "major": 8, "minor": 0}) == "b 8:0 rwm"


def test_v1_destroy_keeps_shared_parent(v1root):
    a = V1Manager("/dockyard/a", str(v1root))
    a.create()
    b = V1Manager("/dockyard/b", str(v1root))
    b.create()
    for m in (a, b):
        for d in set(m.dirs.values()):
            for name in os.listdir(d):
                os.unlink(os.path.join(d, name))
    a.destroy()
    assert not (v1root / "memory" / "dockyard" / "a").exists()
    assert (v1root / "memory" / "dockyard").exists()  # b still lives there
    b.destroy()
    assert not (v1root / "memory" / "dockyard").exists()


def test_v1_join_files_let_the_child_move_itself(v1root):
    """v1: the child writes "0" (itself) to each hierarchy's ``tasks`` through
    fds the runtime opened (no global lock, unlike cgroup.procs of another pid)."""
    from dockyard.runtime.cgroups.base import join_self
    m = V1Manager("/dockyard/c1", str(v1root))
    m.create()
    dirs = sorted(set(m.dirs.values()))
    for d in dirs:  # a fake tree has no kernel-made files
        open(os.path.join(d, "tasks"), "w").close()
    fds = m.join_files()
    assert len(fds) == len(dirs) == 8
    join_self(fds)
    for d in dirs:
        assert read(os.path.join(d, "tasks")) == "0"
    for fd in fds:  # join_self closed them
        with pytest.raises(OSError):
            os.fstat(fd)


def test_v1_join_files_missing_file_closes_what_was_opened(v1root):
    m = V1Manager("/dockyard/c1", str(v1root))
    m.create()
    first = sorted(set(m.dirs.values()))[0]
    open(os.path.join(first, "tasks"), "w").close()  # only the first one exists
    before = set(os.listdir("/proc/self/fd"))
    with pytest.raises(OSError) as info:
        m.join_files()
    assert info.value.filename.endswith("/tasks")
    assert set(os.listdir("/proc/self/fd")) == before


def test_join_self_error_names_the_cgroup(tmp_path):
    from dockyard.runtime.cgroups.base import join_self
    fd = os.open(tmp_path / "tasks", os.O_RDONLY | os.O_CREAT)  # a write fails: EBADF
    with pytest.raises(OSError) as info:
        join_self([fd])
    assert "join cgroup" in str(info.value) and info.value.filename.endswith("tasks")


def test_v2_has_no_self_join(v2root):
    assert V2Manager("/dockyard/c1", str(v2root)).join_files() is None


def test_parent_applies_only_without_self_join():
    from dockyard.runtime.process import parent

    class Recorder:
        def __init__(self, files):
            self.files, self.applied = files, []

        def join_files(self):
            return self.files

        def apply(self, pid):
            self.applied.append(pid)
    for files, applied in ((None, [7]), ([], [])):
        cg, opts = Recorder(files), {}
        parent._open_cgroup(cg, opts)
        parent._join(cg, 7, opts)
        assert cg.applied == applied


def test_make_dirs_leaf_first_then_missing_levels_top_down(tmp_path):
    from dockyard.runtime.cgroups.base import make_dirs
    inited: list[str] = []
    created: list[str] = []
    leaf = make_dirs(str(tmp_path), "/a/b/c", created, inited.append)
    assert leaf == str(tmp_path / "a" / "b" / "c") and os.path.isdir(leaf)
    assert created == inited == [str(tmp_path / "a"), str(tmp_path / "a" / "b"), leaf]
    created.clear()
    make_dirs(str(tmp_path), "/a/b/d", created)  # parents exist: only the leaf is new
    assert created == [str(tmp_path / "a" / "b" / "d")]
    created.clear()
    make_dirs(str(tmp_path), "/a/b/d", created)  # exists: nothing is ours
    assert created == []
    with pytest.raises(FileNotFoundError):
        make_dirs(str(tmp_path / "nope"), "/x/y", created)
    assert created == []


def test_v1_hierarchies_through_symlinks(tmp_path):
    (tmp_path / "cpu,cpuacct").mkdir()
    (tmp_path / "cpu").symlink_to("cpu,cpuacct")
    (tmp_path / "cpuacct").symlink_to("cpu,cpuacct")
    (tmp_path / "memory").mkdir()
    (tmp_path / "dangling").symlink_to("nowhere")
    (tmp_path / "pids").write_text("")  # not a directory: not a hierarchy
    m = V1Manager("/dockyard/c1", str(tmp_path))
    real = os.path.realpath(tmp_path)
    assert m.dirs == {"cpu": f"{real}/cpu,cpuacct/dockyard/c1",
                      "cpuacct": f"{real}/cpu,cpuacct/dockyard/c1",
                      "memory": f"{real}/memory/dockyard/c1"}
    assert V1Manager("/d/x", str(tmp_path / "missing")).dirs == {}


# -- stats ---------------------------------------------------------------------------

def _v1_stat_files(v1root, hz: int) -> None:
    def put(ctrl, name, text):
        d = v1root / ctrl / "dockyard" / "c1"
        d.mkdir(parents=True, exist_ok=True)
        (d / name).write_text(text)
    put("cpuacct", "cpuacct.usage", "123456789\n")
    put("cpuacct", "cpuacct.usage_percpu", "100000000 23456789 \n")
    put("cpuacct", "cpuacct.stat", f"user {3 * hz}\nsystem {hz // 2}\n")
    put("cpu", "cpu.stat", "nr_periods 10\nnr_throttled 4\nthrottled_time 5000\n"
        "nr_bursts 0\nburst_time 0\n")
    put("memory", "memory.usage_in_bytes", "4096000\n")
    put("memory", "memory.max_usage_in_bytes", "8192000\n")
    put("memory", "memory.limit_in_bytes", "9223372036854771712\n")
    put("memory", "memory.failcnt", "2\n")
    put("memory", "memory.stat", "cache 8192\nrss 4096\ninactive_file 1024\n"
        "total_inactive_file 2048\nhierarchical_memory_limit 9223372036854771712\n")
    put("pids", "pids.current", "3\n")
    put("pids", "pids.max", "max\n")
    put("blkio", "blkio.throttle.io_service_bytes_recursive",
        "254:0 Read 4096\n254:0 Write 65536\n254:0 Sync 69632\n254:0 Async 0\n"
        "254:0 Discard 0\n254:0 Total 69632\nTotal 69632\n")
    put("blkio", "blkio.throttle.io_serviced_recursive",
        "254:0 Read 1\n254:0 Write 16\nTotal 17\n")


def test_v1_stats(v1root):
    hz = os.sysconf("SC_CLK_TCK")
    _v1_stat_files(v1root, hz)
    s = V1Manager("/dockyard/c1", str(v1root)).stats()
    assert s["cpu"]["usage"] == {"total": 123456789, "percpu": [100000000, 23456789],
                                 "kernel": (hz // 2) * 10**9 // hz,  # USER_HZ ticks → ns
                                 "user": 3_000_000_000}
    assert s["cpu"]["throttling"] == {"periods": 10, "throttledPeriods": 4,
                                      "throttledTime": 5000}
    assert s["memory"]["usage"] == {"usage": 4096000, "max": 8192000,
                                    "limit": 9223372036854771712, "failcnt": 2}
    assert s["memory"]["raw"]["cache"] == 8192
    assert s["memory"]["raw"]["total_inactive_file"] == 2048
    assert s["pids"] == {"current": 3, "limit": -1}
    bytes_ = s["blkio"]["ioServiceBytesRecursive"]
    assert bytes_[:2] == [{"major": 254, "minor": 0, "op": "Read", "value": 4096},
                          {"major": 254, "minor": 0, "op": "Write", "value": 65536}]
    assert [e["op"] for e in bytes_] == ["Read", "Write", "Sync", "Async", "Discard", "Total"]
    assert s["blkio"]["ioServicedRecursive"] == [
        {"major": 254, "minor": 0, "op": "Read", "value": 1},
        {"major": 254, "minor": 0, "op": "Write", "value": 16}]


def test_v1_stats_missing_files_are_zeros(v1root):
    s = V1Manager("/dockyard/nothing", str(v1root)).stats()
    assert s["cpu"]["usage"] == {"total": 0, "percpu": [], "kernel": 0, "user": 0}
    assert s["cpu"]["throttling"] == {"periods": 0, "throttledPeriods": 0, "throttledTime": 0}
    assert s["memory"]["raw"] == {} and s["memory"]["usage"]["usage"] == 0
    assert s["blkio"] == {"ioServiceBytesRecursive": [], "ioServicedRecursive": []}
    # no hierarchy mounted at all
    s = V1Manager("/dockyard/c1", str(v1root / "none")).stats()
    assert s["pids"] == {"current": 0, "limit": 0} and s["blkio"]["ioServicedRecursive"] == []


def test_v1_stats_tolerates_garbage(v1root):
    d = v1root / "memory" / "dockyard" / "c1"
    d.mkdir(parents=True)
    (d / "memory.stat").write_text("cache 1\nbroken\nodd x\n\n")
    (v1root / "blkio" / "dockyard" / "c1").mkdir(parents=True)
    (v1root / "blkio" / "dockyard" / "c1" / "blkio.throttle.io_service_bytes_recursive") \
        .write_text("254:0 Read x\nnonsense\n8:0 Write 5\n")
    s = V1Manager("/dockyard/c1", str(v1root)).stats()
    assert s["memory"]["raw"] == {"cache": 1}
    assert s["blkio"]["ioServiceBytesRecursive"] == [
        {"major": 8, "minor": 0, "op": "Write", "value": 5}]


def test_v2_stats(v2root):
    leaf = v2root / "dockyard" / "c1"
    leaf.mkdir(parents=True)
    (leaf / "cpu.stat").write_text("usage_usec 2000\nuser_usec 1500\nsystem_usec 500\n"
                                   "nr_periods 7\nnr_throttled 1\nthrottled_usec 30\n")
    (leaf / "memory.current").write_text("1048576\n")
    (leaf / "memory.max").write_text("max\n")
    (leaf / "memory.stat").write_text("anon 4096\nfile 8192\ninactive_file 512\n")
    (leaf / "pids.current").write_text("2\n")
    (leaf / "pids.max").write_text("100\n")
    (leaf / "io.stat").write_text("254:0 rbytes=4096 wbytes=8192 rios=1 wios=2 dbytes=0 "
                                  "dios=0\n8:16 rbytes=1 wbytes=0 rios=1 wios=0\n")
    s = V2Manager("/dockyard/c1", str(v2root)).stats()
    assert s["cpu"]["usage"] == {"total": 2_000_000, "percpu": [], "kernel": 500_000,
                                 "user": 1_500_000}
    assert s["cpu"]["throttling"] == {"periods": 7, "throttledPeriods": 1,
                                      "throttledTime": 30_000}
    assert s["memory"]["usage"] == {"usage": 1048576, "max": 0, "limit": -1}
    assert s["memory"]["raw"] == {"anon": 4096, "file": 8192, "inactive_file": 512}
    assert s["pids"] == {"current": 2, "limit": 100}
    assert s["blkio"]["ioServiceBytesRecursive"] == [
        {"major": 254, "minor": 0, "op": "read", "value": 4096},
        {"major": 254, "minor": 0, "op": "write", "value": 8192},
        {"major": 8, "minor": 16, "op": "read", "value": 1},
        {"major": 8, "minor": 16, "op": "write", "value": 0}]
    assert s["blkio"]["ioServicedRecursive"][:2] == [
        {"major": 254, "minor": 0, "op": "read", "value": 1},
        {"major": 254, "minor": 0, "op": "write", "value": 2}]


def test_v2_stats_missing_files_are_zeros(v2root):
    s = V2Manager("/dockyard/gone", str(v2root)).stats()
    assert s["cpu"]["usage"] == {"total": 0, "percpu": [], "kernel": 0, "user": 0}
    assert s["cpu"]["throttling"]["throttledTime"] == 0
    assert s["memory"] == {"usage": {"usage": 0, "max": 0, "limit": 0}, "raw": {}}
    assert s["blkio"] == {"ioServiceBytesRecursive": [], "ioServicedRecursive": []}
