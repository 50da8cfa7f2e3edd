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
