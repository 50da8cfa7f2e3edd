"""What a busybox probe reports from inside the container, for runc and ours."""
from __future__ import annotations

import os
import signal

import pytest

from tests.integration.runtime.conftest import edit_config

pytestmark = pytest.mark.root


def caps_mask(names: list[str]) -> int:
    from dockyard.runtime.linux.caps import NUMBERS
    return sum(1 << NUMBERS[n] for n in names)


def status_field(text: str, field: str) -> str:
    for line in text.splitlines():
        if line.startswith(field + ":"):
            return line.split(":", 1)[1].strip()
    raise AssertionError(f"{field} not in output:\n{text}")


def test_hostname_and_pid_1(rt):
    out = rt.run(["sh", "-c", "hostname; echo $$"])
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["probe", "1"]


def test_exit_status_is_passed_on(rt):
    assert rt.run(["sh", "-c", "exit 7"]).returncode == 7


def test_capabilities_are_dockers_default_set(rt):
    from tests.integration.runtime.conftest import DOCKER_CAPS
    out = rt.run(["cat", "/proc/self/status"])
    assert out.returncode == 0, out.stderr
    want = caps_mask(DOCKER_CAPS)
    for field in ("CapEff", "CapPrm", "CapBnd"):
        assert int(status_field(out.stdout, field), 16) == want, field
    assert int(status_field(out.stdout, "CapInh"), 16) == 0


def test_mount_table(rt):
    out = rt.run(["cat", "/proc/self/mounts"])
    assert out.returncode == 0, out.stderr
    mounts = {line.split()[1]: line.split() for line in out.stdout.splitlines()}
    assert mounts["/proc"][2] == "proc"
    assert mounts["/dev"][2] == "tmpfs"
    assert mounts["/dev/pts"][2] == "devpts"
    assert mounts["/dev/mqueue"][2] == "mqueue"
    assert mounts["/dev/shm"][2] == "tmpfs"
    assert mounts["/sys"][2] == "sysfs" and "ro" in mounts["/sys"][3].split(",")
    assert "ro" in mounts["/sys/fs/cgroup/memory"][3].split(",")
    assert "ro" in mounts["/proc/sys"][3].split(",")


def test_kcore_masked_and_proc_sys_read_only(rt):
    out = rt.run(["sh", "-c", "echo kcore=$(cat /proc/kcore | wc -c); "
                              "echo firmware=$(ls /sys/firmware | wc -l); "
                              "echo x > /proc/sys/kernel/domainname && echo WROTE"])
    assert "kcore=0" in out.stdout and "firmware=0" in out.stdout, out.stdout + out.stderr
    assert "WROTE" not in out.stdout
    assert "Read-only file system" in out.stderr


def test_host_processes_and_files_invisible(rt, tmp_path):
    marker = tmp_path / "host-marker"
    marker.write_text("host")
    out = rt.run(["sh", "-c", f"ls /proc | grep -c '^[0-9]'; cat {marker} || echo HIDDEN"])
    count, last = out.stdout.split()[0], out.stdout.split()[-1]
    assert int(count) <= 3  # sh, ls/grep: nothing of the host
    assert last == "HIDDEN"


def test_devices_created(rt):
    out = rt.run(["sh", "-c", "ls /dev; echo data > /dev/null && head -c 4 /dev/zero | wc -c"])
    assert out.returncode == 0, out.stderr
    names = out.stdout.split()
    for dev in ("null", "zero", "full", "random", "urandom", "tty", "ptmx", "fd", "stdin"):
        assert dev in names
    assert names[-1] == "4"


def test_user_groups_cwd_and_umask(rt):
    edit = edit_config(process={"user": {"uid": 1000, "gid": 1000, "additionalGids": [10, 20],
                                         "umask": 0o077}, "cwd": "/tmp"})
    out = rt.run(["sh", "-c", "id -u; id -g; id -G; pwd; umask"], edit)
    assert out.returncode == 0, out.stderr
    uid, gid, *rest = out.stdout.split()
    assert (uid, gid) == ("1000", "1000")
    assert "10" in rest and "20" in rest
    assert rest[-2:] == ["/tmp", "0077"]


def _ignore_and_block_some_signals() -> None:
    # what a daemon started from a non-interactive shell's background job gets
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGQUIT, signal.SIG_IGN)
    signal.signal(signal.SIGPIPE, signal.SIG_IGN)
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGUSR1, signal.SIGTERM})


def test_signals_start_at_default_whatever_the_caller_ignores(rt):
    out = rt.run(["grep", "-E", "^Sig(Ign|Blk)", "/proc/self/status"],
                 preexec_fn=_ignore_and_block_some_signals)
    assert out.returncode == 0, out.stderr
    assert status_field(out.stdout, "SigIgn") == "0" * 16
    if rt.name != "runc":  # runc leaves a blocked SIGUSR1 blocked (Go unblocks SIGTERM)
        assert status_field(out.stdout, "SigBlk") == "0" * 16


def test_rlimits_and_no_new_privileges(rt):
    edit = edit_config(process={"rlimits": [{"type": "RLIMIT_NOFILE", "hard": 512,
                                             "soft": 256}], "noNewPrivileges": True})
    out = rt.run(["sh", "-c", "ulimit -n; ulimit -Hn; grep NoNewPrivs /proc/self/status"], edit)
    assert out.stdout.split()[:2] == ["256", "512"]
    assert out.stdout.split()[-1] == "1"


def test_cgroup_limits(rt):
    edit = edit_config(linux={"resources": {
        "memory": {"limit": 64 * 2**20, "reservation": 32 * 2**20},
        "pids": {"limit": 50},
        "cpu": {"shares": 512, "quota": 50000, "period": 100000},
        "devices": [{"allow": False, "access": "rwm"}]}})
    out = rt.run(["sh", "-c", "cd /sys/fs/cgroup; cat memory/memory.limit_in_bytes "
                  "memory/memory.soft_limit_in_bytes pids/pids.max cpu/cpu.shares "
                  "cpu/cpu.cfs_quota_us"], edit)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == [str(64 * 2**20), str(32 * 2**20), "50", "512", "50000"]


def test_readonly_root_and_sysctl(rt):
    edit = edit_config(root={"readonly": True},
                       linux={"sysctl": {"net.ipv4.ip_forward": "1"}})
    out = rt.run(["sh", "-c", "cat /proc/sys/net/ipv4/ip_forward; touch /x && echo WROTE"],
                 edit)
    assert out.stdout.split()[0] == "1"
    assert "WROTE" not in out.stdout


def test_seccomp_rules_with_errno_and_args(rt):
    seccomp = {"defaultAction": "SCMP_ACT_ALLOW", "architectures": ["SCMP_ARCH_X86_64"],
               "syscalls": [
                   {"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1},
                   {"names": ["kill"], "action": "SCMP_ACT_ERRNO",
                    "args": [{"index": 1, "value": 28, "op": "SCMP_CMP_EQ"}]}]}
    out = rt.run(["sh", "-c", "mkdir /tmp/d || echo MKDIR-DENIED; kill -0 $$ && echo KILL0-OK;"
                              " kill -WINCH $$ || echo WINCH-DENIED"],
                 edit_config(linux={"seccomp": seccomp}))
    assert out.stdout.split() == ["MKDIR-DENIED", "KILL0-OK", "WINCH-DENIED"], out.stderr


def test_docker_default_seccomp_blocks_mount_even_with_cap(rt):
    from dockyard.runtime.seccomp_default import default_profile
    from tests.integration.runtime.conftest import DOCKER_CAPS
    caps = DOCKER_CAPS + ["CAP_SYS_ADMIN"]
    edit = edit_config(process={"capabilities": {k: caps for k in
                                                 ("bounding", "effective", "permitted")}},
                       linux={"seccomp": default_profile(DOCKER_CAPS)})
    out = rt.run(["sh", "-c", "mount -t tmpfs none /tmp && echo MOUNTED; echo done"], edit)
    assert "MOUNTED" not in out.stdout and "done" in out.stdout, out.stderr
    ok = rt.run(["sh", "-c", "mount -t tmpfs none /tmp && echo MOUNTED"],
                edit_config(process={"capabilities": {k: caps for k in
                                                      ("bounding", "effective", "permitted")}},
                            linux={"seccomp": default_profile(caps)}))
    assert "MOUNTED" in ok.stdout, ok.stderr


@pytest.fixture
def userns_rootfs():
    """A rootfs the mapped root (host uid 100000) can reach: every parent 0755."""
    import shutil
    import tempfile
    from tests.integration.runtime.conftest import make_rootfs
    base = tempfile.mkdtemp(prefix="dockyard-rt-userns-", dir="/tmp")
    os.chmod(base, 0o755)
    make_rootfs(os.path.join(base, "rootfs"))
    yield os.path.join(base, "rootfs")
    shutil.rmtree(base)


def test_user_namespace_mappings(rt, userns_rootfs):
    edit = edit_config(linux={
        "namespaces": [{"type": t} for t in ("pid", "ipc", "uts", "mount", "user")],
        "uidMappings": [{"containerID": 0, "hostID": 100000, "size": 65536}],
        "gidMappings": [{"containerID": 0, "hostID": 100000, "size": 65536}]})

    def no_cgroup_or_net(config):
        edit(config)
        config["root"]["path"] = userns_rootfs
        config["mounts"] = [m for m in config["mounts"]
                            if m["destination"] not in ("/sys/fs/cgroup", "/sys")]
    out = rt.run(["sh", "-c", "id -u; cat /proc/self/uid_map"], no_cgroup_or_net)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["0", "0", "100000", "65536"]


def test_join_network_namespace_by_path(rt, tmp_path):
    import subprocess
    name = f"rtns{os.getpid()}{rt.name}"
    subprocess.run(["ip", "netns", "add", name], check=True)
    try:
        subprocess.run(["ip", "-n", name, "link", "add", "probe0", "type", "veth", "peer", "name", "probe1"], check=True)
        edit = edit_config(linux={"namespaces": [
            {"type": "pid"}, {"type": "ipc"}, {"type": "uts"}, {"type": "mount"},
            {"type": "network", "path": f"/run/netns/{name}"}]})
        out = rt.run(["cat", "/proc/net/dev"], edit)
        assert "probe0" in out.stdout, out.stderr
    finally:
        subprocess.run(["ip", "netns", "del", name], check=True)


def test_cgroup_namespace(rt):
    edit = edit_config(linux={"namespaces": [{"type": t} for t in
                                             ("pid", "ipc", "uts", "mount", "cgroup")],
                              "resources": {"pids": {"limit": 42}}})
    out = rt.run(["sh", "-c", "grep -c ':/$' /proc/self/cgroup; "
                              "cat /sys/fs/cgroup/pids/pids.max"], edit)
    assert out.returncode == 0, out.stderr
    roots, pids_max = out.stdout.split()
    assert int(roots) >= 8  # every hierarchy shows our cgroup as its root
    assert pids_max == "42"
