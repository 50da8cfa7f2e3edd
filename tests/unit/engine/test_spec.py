import os

import pytest

from dockyard.engine import spec
from dockyard.errors import InvalidArgument


def _ctr(**host):
    return {"Id": "a" * 64, "Config": {"Env": ["A=1"], "Cmd": ["sh"], "Hostname": "h", "Tty": False},
            "HostConfig": host}


def _paths(tmp_path):
    return {"rootfs": str(tmp_path), "user": {"uid": 0, "gid": 0}, "netns": None, "mounts": [],
            "hostname": "/x/hostname", "hosts": "/x/hosts", "resolv_conf": "/x/resolv"}


def test_docker_defaults(tmp_path):
    cfg = spec.build(_ctr(), {}, _paths(tmp_path))
    caps = cfg["process"]["capabilities"]["bounding"]
    assert len(caps) == 14 and "CAP_NET_RAW" in caps and "CAP_SYS_ADMIN" not in caps
    dests = [m["destination"] for m in cfg["mounts"]]
    assert {"/proc", "/dev", "/dev/pts", "/sys", "/dev/shm", "/etc/hosts", "/etc/hostname",
            "/etc/resolv.conf"} <= set(dests)
    assert "/proc/kcore" in cfg["linux"]["maskedPaths"]
    assert "/proc/sys" in cfg["linux"]["readonlyPaths"]
    assert {"type": "network"} in cfg["linux"]["namespaces"]
    assert "HOSTNAME=h" in cfg["process"]["env"] and any(e.startswith("PATH=") for e in cfg["process"]["env"])


def test_caps_privileged_and_resources(tmp_path):
    cfg = spec.build(_ctr(CapAdd=["SYS_ADMIN"], CapDrop=["NET_RAW"], Memory=64 << 20,
                          NanoCpus=500_000_000, PidsLimit=10), {}, _paths(tmp_path))
    caps = cfg["process"]["capabilities"]["bounding"]
    assert "CAP_SYS_ADMIN" in caps and "CAP_NET_RAW" not in caps
    res = cfg["linux"]["resources"]
    assert res["memory"]["limit"] == 64 << 20
    assert (res["cpu"]["quota"], res["cpu"]["period"]) == (50000, 100000)
    assert res["pids"]["limit"] == 10
    priv = spec.build(_ctr(Privileged=True), {}, _paths(tmp_path))
    assert "maskedPaths" not in priv["linux"] and len(priv["process"]["capabilities"]["bounding"]) > 14


def test_resolve_user(tmp_path):
    (tmp_path / "etc").mkdir()
    (tmp_path / "etc/passwd").write_text("root:x:0:0::/:/bin/sh\nweb:x:1000:1000::/:/bin/sh\n")
    (tmp_path / "etc/group").write_text("root:x:0:\nweb:x:1000:\nextra:x:2000:web\n")
    assert spec.resolve_user(str(tmp_path), "web") == {"uid": 1000, "gid": 1000,
                                                       "additionalGids": [2000]}
    assert spec.resolve_user(str(tmp_path), "7:8") == {"uid": 7, "gid": 8}
    with pytest.raises(InvalidArgument, match="unable to find user nobody"):
        spec.resolve_user(str(tmp_path), "nobody")


def test_resolve_user_never_reads_a_host_file_through_a_symlink(tmp_path):
    (tmp_path / "etc").mkdir()
    os.symlink("/etc/passwd", tmp_path / "etc/passwd")
    with pytest.raises(InvalidArgument):
        spec.resolve_user(str(tmp_path), "root-on-host-only-xyz")
    assert spec.resolve_user(str(tmp_path), "") == {"uid": 0, "gid": 0}
