"""Parity fixtures: each test runs against runc and dockyard-runtime alike.

``rt`` is a :class:`Harness` for one runtime binary with its own state root;
``rt.bundle(...)`` writes a busybox bundle whose config is docker-like, and
every container, bundle and cgroup the test made is removed afterwards, also
when the test fails.
"""
from __future__ import annotations

import copy
import json
import os
import shutil
import subprocess
import sys
import uuid

import pytest

from tests.helpers.rootfs import BUSYBOX, busybox_applets

RUNTIME = os.path.join(os.path.dirname(sys.executable), "dockyard-runtime")
BINARIES = {"runc": "/usr/sbin/runc", "dockyard": RUNTIME}
CGROUP_PARENT = "dockyard-rt-test"
DOCKER_CAPS = ["CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FSETID", "CAP_FOWNER", "CAP_MKNOD",
               "CAP_NET_RAW", "CAP_SETGID", "CAP_SETUID", "CAP_SETFCAP", "CAP_SETPCAP",
               "CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT", "CAP_KILL", "CAP_AUDIT_WRITE"]


def make_rootfs(path: str) -> None:
    """/bin/busybox, its applet links, /etc/passwd, /tmp: enough for a probe."""
    for d in ("bin", "sbin", "usr/bin", "usr/sbin", "etc", "tmp", "proc", "sys", "dev", "root"):
        os.makedirs(os.path.join(path, d), exist_ok=True)
    os.chmod(os.path.join(path, "tmp"), 0o1777)
    shutil.copy2(BUSYBOX, os.path.join(path, "bin/busybox"))
    for applet in busybox_applets():
        link = os.path.join(path, applet.lstrip("/"))
        if applet.lstrip("/") != "bin/busybox" and not os.path.lexists(link):
            os.makedirs(os.path.dirname(link), exist_ok=True)
            os.symlink("/bin/busybox", link)
    with open(os.path.join(path, "etc/passwd"), "w") as f:
        f.write("root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534::/:/bin/false\n")
    with open(os.path.join(path, "etc/group"), "w") as f:
        f.write("root:x:0:\nnogroup:x:65534:\n")


def base_config(args: list[str], cid: str) -> dict:
    """A config like the one docker generates (mounts, masks, caps), minus seccomp."""
    caps = list(DOCKER_CAPS)
    return {
        "ociVersion": "1.0.2",
        "process": {
            "terminal": False, "user": {"uid": 0, "gid": 0}, "args": args,
            "env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],
            "cwd": "/",
            "capabilities": {k: caps for k in ("bounding", "effective", "permitted")},
            "rlimits": [{"type": "RLIMIT_NOFILE", "hard": 1024, "soft": 1024}],
            "noNewPrivileges": False,
        },
        "root": {"path": "rootfs", "readonly": False},  # Harness.bundle sets the real path
        "hostname": "probe",
        "mounts": [
            {"destination": "/proc", "type": "proc", "source": "proc",
             "options": ["nosuid", "noexec", "nodev"]},
            {"destination": "/dev", "type": "tmpfs", "source": "tmpfs",
             "options": ["nosuid", "strictatime", "mode=755", "size=65536k"]},
            {"destination": "/dev/pts", "type": "devpts", "source": "devpts",
             "options": ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620",
                         "gid=5"]},
            {"destination": "/sys", "type": "sysfs", "source": "sysfs",
             "options": ["nosuid", "noexec", "nodev", "ro"]},
            {"destination": "/sys/fs/cgroup", "type": "cgroup", "source": "cgroup",
             "options": ["ro", "nosuid", "noexec", "nodev"]},
            {"destination": "/dev/mqueue", "type": "mqueue", "source": "mqueue",
             "options": ["nosuid", "noexec", "nodev"]},
            {"destination": "/dev/shm", "type": "tmpfs", "source": "shm",
             "options": ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"]},
        ],
        "linux": {
            "cgroupsPath": f"/{CGROUP_PARENT}/{cid}",
            "resources": {"devices": [{"allow": False, "access": "rwm"}]},
            "namespaces": [{"type": t} for t in ("pid", "network", "ipc", "uts", "mount")],
            "maskedPaths": ["/proc/asound", "/proc/acpi", "/proc/kcore", "/proc/keys",
                            "/proc/latency_stats", "/proc/timer_list", "/proc/timer_stats",
                            "/proc/sched_debug", "/proc/scsi", "/sys/firmware"],
            "readonlyPaths": ["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys",
                              "/proc/sysrq-trigger"],
        },
    }


class Harness:
    """One runtime binary, a private state root, and everything to clean up."""

    def __init__(self, name: str, binary: str, tmp: str, rootfs: str):
        self.name, self.binary, self.tmp, self.rootfs = name, binary, tmp, rootfs
        self.root = os.path.join(tmp, "state")
        self.ids: list[str] = []

    def new_id(self) -> str:
        cid = f"t{uuid.uuid4().hex[:10]}"
        self.ids.append(cid)
        return cid

    def bundle(self, args: list[str], cid: str, edit=None) -> str:
        """Write a bundle for ``cid``; ``edit(config)`` may change the config in place."""
        path = os.path.join(self.tmp, f"bundle-{cid}")
        os.makedirs(path)
        config = base_config(args, cid)
        config["root"]["path"] = self.rootfs  # shared; runc refuses a symlinked rootfs
        if edit:
            edit(config)
        with open(os.path.join(path, "config.json"), "w") as f:
            json.dump(config, f)
        return path

    def cmd(self, *args: str, check: bool = False, timeout: int = 20, **kw):
        proc = subprocess.run([self.binary, "--root", self.root, *args], capture_output=True,
                              text=True, timeout=timeout, **kw)
        if check and proc.returncode != 0:
            raise AssertionError(f"{self.name} {' '.join(args)} failed: {proc.stderr}")
        return proc

    def create(self, cid: str, bundle: str, *extra: str, check: bool = True):
        """``create``: the init keeps the stdio it is given, so give it files, not
        pipes (a pipe would stay open until the container exits)."""
        out = os.path.join(self.tmp, f"{cid}.out")
        with open(out, "w") as f:
            proc = subprocess.run([self.binary, "--root", self.root, "create", "--bundle",
                                   bundle, *extra, cid], stdin=subprocess.DEVNULL,
                                  stdout=f, stderr=f, timeout=30)
        with open(out) as f:
            proc.stderr = f.read()
        if check and proc.returncode != 0:
            raise AssertionError(f"{self.name} create failed: {proc.stderr}")
        return proc

    def run(self, args: list[str], edit=None, **kw):
        """``run`` a fresh container in the foreground; returns the CompletedProcess."""
        cid = self.new_id()
        return self.cmd("run", "--bundle", self.bundle(args, cid, edit), cid, **kw)

    def started(self, args: list[str], edit=None) -> str:
        """create + start a container running ``args``; returns its ID."""
        cid = self.new_id()
        self.create(cid, self.bundle(args, cid, edit))
        self.cmd("start", cid, check=True)
        return cid

    def state(self, cid: str) -> dict:
        return json.loads(self.cmd("state", cid, check=True).stdout)

    def cleanup(self) -> None:
        for cid in self.ids:
            self.cmd("delete", "--force", cid)
        for controller in os.listdir("/sys/fs/cgroup"):
            for cid in self.ids:
                d = os.path.join("/sys/fs/cgroup", controller, CGROUP_PARENT, cid)
                if os.path.isdir(d) and not os.path.islink(os.path.join("/sys/fs/cgroup",
                                                                         controller)):
                    os.rmdir(d)


@pytest.fixture(scope="session", autouse=True)
def _remove_test_cgroup_parent():
    """runc leaves the parent of a container's cgroup behind: remove ours at the end."""
    yield
    for controller in os.listdir("/sys/fs/cgroup"):
        d = os.path.join("/sys/fs/cgroup", controller, CGROUP_PARENT)
        if os.path.isdir(d) and not os.path.islink(os.path.join("/sys/fs/cgroup", controller)):
            try:
                os.rmdir(d)
            except OSError:
                pass  # still in use by a container some other process runs


@pytest.fixture(scope="session")
def busybox_rootfs(tmp_path_factory) -> str:
    path = str(tmp_path_factory.mktemp("rt-rootfs") / "rootfs")
    make_rootfs(path)
    return path


@pytest.fixture(params=sorted(BINARIES))
def rt(request, tmp_path, busybox_rootfs):
    """A Harness for runc and one for dockyard-runtime (the test runs twice)."""
    if os.geteuid() != 0:
        pytest.skip("needs root")
    binary = BINARIES[request.param]
    if not os.path.exists(binary):
        pytest.skip(f"{binary} not installed")
    h = Harness(request.param, binary, str(tmp_path), busybox_rootfs)
    yield h
    h.cleanup()


def edit_config(**changes):
    """An ``edit`` callback that deep-merges ``changes`` into the config."""
    def apply(config: dict) -> None:
        _merge(config, copy.deepcopy(changes))
    return apply


def _merge(dst: dict, src: dict) -> None:
    for key, value in src.items():
        if isinstance(value, dict) and isinstance(dst.get(key), dict):
            _merge(dst[key], value)
        else:
            dst[key] = value
