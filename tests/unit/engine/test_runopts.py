import argparse

import pytest

from dockyard.cli.commands import _runopts as ro
from dockyard.cli.main import CommandError


def _parse(*argv):
    p = argparse.ArgumentParser(prog="run")
    p.add_argument("-d", "--detach", action="store_true")
    p.add_argument("--rm", action="store_true")
    ro.add_options(p)
    return p.parse_args(list(argv))


def test_body_from_flags():
    a = _parse("-it", "-e", "A=1", "-h", "box", "-m", "512m", "--cpus", "1.5", "--restart",
               "on-failure:3", "-v", "/x:/y:ro", "--tmpfs", "/t:size=1m", "-l", "k=v",
               "busybox", "sh", "-c", "echo")
    body = ro.build_body(a)
    assert body["Cmd"] == ["sh", "-c", "echo"] and body["Tty"] and body["OpenStdin"]
    assert body["Hostname"] == "box" and body["Env"] == ["A=1"] and body["Labels"] == {"k": "v"}
    hc = body["HostConfig"]
    assert hc["Memory"] == 512 << 20 and hc["NanoCpus"] == 1_500_000_000
    assert hc["RestartPolicy"] == {"Name": "on-failure", "MaximumRetryCount": 3}
    assert hc["Binds"] == ["/x:/y:ro"] and hc["Tmpfs"] == {"/t": "size=1m"}


def test_bad_values_exit_125():
    for argv in (["-m", "5zb"], ["--restart", "sometimes"], ["--cpus", "x"],
                 ["--health-interval", "5parsecs"]):
        with pytest.raises(CommandError) as e:
            ro.build_body(_parse(*argv, "--health-cmd", "true", "busybox"))
        assert e.value.status == 125


def test_mount_spec():
    assert ro.mount_spec("type=bind,source=/a,target=/b,readonly") == {
        "Type": "bind", "Source": "/a", "Target": "/b", "ReadOnly": True}
