"""Start-up steps against a recording fake of the syscall seam (no root needed)."""
from __future__ import annotations

import errno
import os

import pytest

from dockyard.runtime import syscalls as sc
from dockyard.runtime.linux import rootfs
from dockyard.runtime.process import init, setup, sync


class FakeLinux:
    """Records every seam call; ``fail`` maps a call name to an errno to raise once."""

    def __init__(self, fail: dict[str, int] | None = None, clone_pid: int = 4321):
        self.calls: list[tuple] = []
        self.fail = dict(fail or {})
        self.clone_pid = clone_pid

    def __getattr__(self, name):
        def record(*args):
            self.calls.append((name, *args))
            if name in self.fail:
                raise OSError(self.fail.pop(name), f"{name}: fake", None)
            return self.clone_pid if name == "clone_parent" else 0
        return record

    def names(self) -> list[str]:
        return [c[0] for c in self.calls]


@pytest.fixture
def fake():
    f = FakeLinux()
    previous = sc.use(f)
    yield f
    sc.use(previous)


class FakeChannel:
    def __init__(self, incoming: list[dict]):
        self.incoming, self.sent = list(incoming), []

    def wait_for(self, kind):
        msg = self.incoming.pop(0)
        assert msg["type"] == kind
        return msg

    def send(self, kind, **fields):
        self.sent.append(dict(fields, type=kind))

    def fileno(self):
        return 99


def test_pivot_root_then_detach_old_root(fake, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    rootfs.pivot(str(tmp_path))
    assert fake.calls[0] == ("pivot_root", ".", ".")
    assert fake.calls[1] == ("mount", None, ".", None, sc.MS_SLAVE | sc.MS_REC)
    assert fake.calls[2] == ("umount2", ".", sc.MNT_DETACH)


def test_pivot_falls_back_to_move_and_chroot(tmp_path, monkeypatch):
    fake = FakeLinux(fail={"pivot_root": errno.EINVAL})
    previous = sc.use(fake)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(os, "chdir", lambda p: None)
    try:
        rootfs.pivot(str(tmp_path))
    finally:
        sc.use(previous)
    assert fake.names() == ["pivot_root", "mount", "chroot"]
    assert fake.calls[1] == ("mount", str(tmp_path), "/", None, sc.MS_MOVE)


def test_mask_path_file_then_dir(fake):
    rootfs.mask_path("/proc/kcore")
    assert fake.calls == [("mount", "/dev/null", "/proc/kcore", None, sc.MS_BIND)]
    fake.fail["mount"] = errno.ENOTDIR
    rootfs.mask_path("/sys/firmware")
    assert fake.calls[-1] == ("mount", "tmpfs", "/sys/firmware", "tmpfs", sc.MS_RDONLY)


def test_mask_path_missing_is_skipped(fake):
    fake.fail["mount"] = errno.ENOENT
    rootfs.mask_path("/proc/nope")
    assert len(fake.calls) == 1


def test_exec_intermediate_is_undumpable_before_joining(fake, monkeypatch):
    """CVE-2019-5736: no setns (no container contact) before PR_SET_DUMPABLE 0."""
    real_stat = os.stat

    def stat(path, *a, **kw):  # make every namespace of "the container" look different
        st = real_stat(path, *a, **kw)
        if isinstance(path, str) and path.startswith(f"/proc/{os.getpid()}/ns/"):
            return os.stat_result((st.st_mode, st.st_ino + 1) + tuple(st)[2:])
        return st
    monkeypatch.setattr(init.os, "stat", stat)
    chan = FakeChannel([{"type": sync.JOINED}])
    init._exec_intermediate(chan, os.getpid(), {"args": ["true"]}, {}, {})
    names = fake.names()
    assert fake.calls[0] == ("prctl", sc.PR_SET_DUMPABLE, 0)
    assert names.index("setns") > 0 and "clone_parent" in names
    joined = [c[2] for c in fake.calls if c[0] == "setns"]
    assert joined[-1] == sc.CLONE_NEWNS  # mount last: /proc paths vanish after it
    assert chan.sent == [{"type": sync.PID, "pid": 4321}]


def test_intermediate_user_namespace_exchange(fake):
    config = {"linux": {"namespaces": [{"type": t} for t in ("user", "mount", "pid", "uts")]}}
    chan = FakeChannel([{"type": sync.JOINED}, {"type": sync.MAPPED}])
    init._intermediate(chan, config, {})
    names = fake.names()
    assert fake.calls[0] == ("prctl", sc.PR_SET_DUMPABLE, 0)
    assert fake.calls[1] == ("unshare", sc.CLONE_NEWUSER)
    assert chan.sent[0] == {"type": sync.USERMAP}
    assert names[2:4] == ["setresgid", "setresuid"]
    assert fake.calls[4] == ("unshare", sc.CLONE_NEWNS | sc.CLONE_NEWPID | sc.CLONE_NEWUTS)
    assert names[5] == "clone_parent"
    assert chan.sent[-1] == {"type": sync.PID, "pid": 4321}


def test_identity_drops_bounding_before_uid_change(fake, monkeypatch):
    monkeypatch.setattr(setup.capslib, "last_cap", lambda: 40)
    process = {"user": {"uid": 1000, "gid": 1000, "additionalGids": [5]},
               "capabilities": {"bounding": ["CAP_KILL"], "effective": ["CAP_KILL"],
                                "permitted": ["CAP_KILL"], "ambient": []}}
    setup._identity(process)
    names = fake.names()
    last_drop = max(i for i, c in enumerate(fake.calls)
                    if c[:2] == ("prctl", sc.PR_CAPBSET_DROP))
    assert last_drop < names.index("setresuid") < names.index("capset")
    assert fake.calls[names.index("setgroups")] == ("setgroups", [5])
    assert ("prctl", sc.PR_CAPBSET_DROP, 5) not in fake.calls  # CAP_KILL kept
    assert fake.calls[names.index("capset")] == ("capset", 1 << 5, 1 << 5, 0)


def test_close_host_fds_keeps_only_what_is_needed(fake):
    setup.close_host_fds((7, 9))
    assert fake.calls == [("close_range", 3, 6), ("close_range", 8, 8), ("close_range", 10)]


def test_direct_init_namespaces_then_cgroup_after_join(fake, monkeypatch):
    """The no-intermediate path: pid ns already ours (the parent forked us into it)."""
    became = []
    monkeypatch.setattr(init, "container_init", lambda chan, config, opts: became.append(1))
    monkeypatch.setattr(init, "join_self", lambda fds: fake.calls.append(("join", fds)))
    config = {"linux": {"namespaces": [{"type": t} for t in
                                       ("pid", "mount", "network", "cgroup", "ipc")]}}
    chan = FakeChannel([{"type": sync.JOINED}])
    init._direct_init(chan, config, {"cgroup_fds": [11, 12]})
    assert fake.calls[0] == ("prctl", sc.PR_SET_DUMPABLE, 0)
    assert fake.calls[1] == ("join", [11, 12])  # in our cgroup before anything else
    assert fake.calls[2] == ("unshare", sc.CLONE_NEWNS | sc.CLONE_NEWNET | sc.CLONE_NEWIPC)
    assert fake.calls[3] == ("unshare", sc.CLONE_NEWCGROUP)
    assert not chan.incoming and became == [1]


def test_user_namespace_needs_the_intermediate():
    from dockyard.runtime.process import parent
    with_user = {"linux": {"namespaces": [{"type": "user"}, {"type": "mount"}]}}
    without = {"linux": {"namespaces": [{"type": "mount"}]}}
    assert not parent._can_fork_directly(with_user)
    assert parent._can_fork_directly(without) == (len(os.listdir("/proc/self/task")) == 1)


def test_after_fork_work_runs_once():
    from dockyard.runtime.process import parent
    ran = []
    opts = {"after_fork": ran.append}
    parent._after_fork(opts, 41)
    parent._after_fork(opts, 42)
    parent._after_fork({}, 43)
    assert ran == [41] and "after_fork" not in opts


def test_exec_resets_signals_before_seccomp_and_exec(fake):
    class Filter:
        def load(self):
            fake.calls.append(("seccomp_load",))

    setup.exec_process("/bin/true", {"args": ["true"], "env": []}, {},
                       {"pending_seccomp": Filter()})
    names = fake.names()
    assert names.index("reset_signals") < names.index("seccomp_load") < names.index("execve")


def test_reset_signals_clears_ignored_dispositions_and_mask():
    """The real seam, in a forked child: what it leaves for the exec'd program."""
    import signal
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            signal.signal(signal.SIGINT, signal.SIG_IGN)
            signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGUSR1})
            sc.Linux().reset_signals()
            with open("/proc/self/status") as f:
                fields = dict(line.split(":\t", 1) for line in f.read().splitlines())
            code = 0 if int(fields["SigIgn"], 16) == 0 and int(fields["SigBlk"], 16) == 0 \
                else 3
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
