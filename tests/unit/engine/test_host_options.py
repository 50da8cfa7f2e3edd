"""HostConfig's ulimits, sysctls, shm size, groups, OOM settings, devices and namespace
modes → the OCI config (engine/host_options.py), and docker's refusals."""
import os

import pytest

from dockyard.engine import host_options as ho
from dockyard.engine import spec
from dockyard.errors import InvalidArgument


def _config(tmp_path, **hc):
    ctr = {"Id": "c" * 64, "Config": {"Cmd": ["true"], "Hostname": "h"},
           "HostConfig": hc}
    paths = {"rootfs": str(tmp_path), "user": {"uid": 0, "gid": 0}, "mounts": []}
    return spec.build(ctr, {}, paths)


@pytest.mark.parametrize("hc,message", [
    ({"Ulimits": [{"Name": "nofile", "Soft": 10, "Hard": 5}]}, "soft limit must be less"),
    ({"Ulimits": [{"Name": "bogus", "Soft": 1, "Hard": 1}]}, "invalid ulimit type: bogus"),
    ({"Sysctls": {"kernel.hostname": "x"}}, "sysctl 'kernel.hostname' is not allowed"),
    ({"Sysctls": {"net.ipv4.ip_forward": "1"}, "NetworkMode": "host"},
     "not allowed in host network namespace"),
    ({"Sysctls": {"kernel.shmmax": "1"}, "IpcMode": "host"}, "not allowed in host IPC"),
    ({"ShmSize": -1}, "SHM size can not be less than 0"),
    ({"ShmSize": "big"}, "invalid ShmSize: 'big' is not an integer"),
    ({"Ulimits": [{"Name": "nofile", "Soft": "x", "Hard": 1}]}, "invalid Ulimits nofile Soft"),
    ({"OomScoreAdj": 1001}, r"range for oom score adj is \[-1000, 1000\]"),
    ({"Devices": [{"PathOnHost": "/dev/null", "CgroupPermissions": "rwx"}]},
     "invalid device mode: rwx"),
    ({"Devices": [{"PathOnHost": "dev/null"}]}, "is not an absolute path"),
    ({"PidMode": "bogus"}, "invalid PID mode: bogus"),
    ({"IpcMode": "container:"}, "invalid IPC mode"),
    ({"UTSMode": "container:x"}, "invalid UTS mode"),
])
def test_docker_refusals(hc, message):
    with pytest.raises(InvalidArgument, match=message):
        ho.check(hc)


def test_settings_reach_the_oci_config(tmp_path):
    hc = {"Ulimits": [{"Name": "nofile", "Soft": 256, "Hard": 512}],
          "Sysctls": {"net.ipv4.ip_forward": "1"}, "ShmSize": 32 << 20,
          "GroupAdd": ["audio", "77"], "OomScoreAdj": -5, "OomKillDisable": True,
          "Devices": [{"PathOnHost": "/dev/null", "PathInContainer": "/dev/mynull",
                       "CgroupPermissions": "rw"}]}
    ho.check(hc)
    cfg = _config(tmp_path, **hc)
    ho.apply(cfg, hc, {}, [["audio", "x", "29", ""]])
    proc, lin = cfg["process"], cfg["linux"]
    assert proc["rlimits"] == [{"type": "RLIMIT_NOFILE", "soft": 256, "hard": 512}]
    assert proc["oomScoreAdj"] == -5 and proc["user"]["additionalGids"] == [29, 77]
    assert lin["sysctl"] == {"net.ipv4.ip_forward": "1"}
    assert lin["resources"]["memory"]["disableOOMKiller"] is True
    st = os.stat("/dev/null")
    assert lin["devices"] == [{"path": "/dev/mynull", "type": "c", "major": 1, "minor": 3,
                               "fileMode": st.st_mode & 0o7777, "uid": 0, "gid": 0}]
    assert lin["resources"]["devices"][-1] == {"allow": True, "type": "c", "major": 1,
                                               "minor": 3, "access": "rw"}
    shm = next(m for m in cfg["mounts"] if m["destination"] == "/dev/shm")
    assert "size=32768k" in shm["options"] and "size=65536k" not in shm["options"]


def test_namespace_modes(tmp_path):
    hc = {"PidMode": "host", "IpcMode": "container:abc", "UTSMode": "host"}
    ho.check(hc)
    cfg = _config(tmp_path, **hc)
    ho.apply(cfg, hc, {"ipc": "/proc/42/ns/ipc"}, [])
    kinds = {ns["type"]: ns.get("path") for ns in cfg["linux"]["namespaces"]}
    assert "pid" not in kinds and "uts" not in kinds and kinds["ipc"] == "/proc/42/ns/ipc"
    assert "hostname" not in cfg
    host_ipc = {"IpcMode": "host"}
    cfg = _config(tmp_path, **host_ipc)
    ho.apply(cfg, host_ipc, {}, [])
    shm = next(m for m in cfg["mounts"] if m["destination"] == "/dev/shm")
    assert (shm["type"], shm["source"]) == ("bind", "/dev/shm")
    shareable = {"IpcMode": "shareable"}
    ho.check(shareable)
    cfg = _config(tmp_path, **shareable)
    ho.apply(cfg, shareable, {}, [], shm_source="/run/x/shm")
    shm = next(m for m in cfg["mounts"] if m["destination"] == "/dev/shm")
    assert (shm["type"], shm["source"]) == ("bind", "/run/x/shm")
    assert {"ipc"} <= {ns["type"] for ns in cfg["linux"]["namespaces"]}
    none = {"IpcMode": "none"}
    cfg = _config(tmp_path, **none)
    ho.apply(cfg, none, {}, [])
    assert not [m for m in cfg["mounts"] if m["destination"] == "/dev/shm"]


def test_default_shm_and_no_settings_change_nothing_else(tmp_path):
    cfg = _config(tmp_path)
    before = {k: v for k, v in cfg.items() if k != "process"}
    ho.apply(cfg, {}, {}, [])
    assert cfg["process"]["rlimits"] == [] and "oomScoreAdj" not in cfg["process"]
    assert {k: v for k, v in cfg.items() if k != "process"} == before


def test_device_and_group_errors():
    with pytest.raises(InvalidArgument, match='adding custom device "/dev/nope": no such'):
        ho.device({"PathOnHost": "/dev/nope"})
    with pytest.raises(InvalidArgument, match="not a device node"):
        ho.device({"PathOnHost": "/etc/hostname"})
    with pytest.raises(InvalidArgument, match="Unable to find group wheel"):
        ho.group_ids(["wheel"], [["audio", "x", "29", ""]])
