import pytest

from dockyard.engine import container_config as cc
from dockyard.errors import InvalidArgument


def test_names():
    assert cc.check_name("web-1") == "/web-1"
    with pytest.raises(InvalidArgument, match="Invalid container name"):
        cc.check_name("bad name")


def test_binds():
    assert cc.parse_bind("/a:/b:ro") == {"source": "/a", "destination": "/b", "rw": False,
                                         "named": False}
    assert cc.parse_bind("vol:/data")["named"] is True
    assert cc.parse_bind("/data")["source"] == ""
    for bad in ("/a:rel", "a b:/x", "/a:/b:xx", "/a:/b:c:d"):
        with pytest.raises(InvalidArgument):
            cc.parse_bind(bad)


def test_restart_and_log_opts():
    assert cc.restart_policy({"Name": "on-failure", "MaximumRetryCount": 3})["MaximumRetryCount"] == 3
    with pytest.raises(InvalidArgument):
        cc.restart_policy({"Name": "always", "MaximumRetryCount": 3})
    assert cc.log_opts({"max-size": "10k", "max-file": "3"}) == (10240, 3)
    with pytest.raises(InvalidArgument):
        cc.log_opts({"max-size": "ten"})
    with pytest.raises(InvalidArgument, match="unknown log opt"):
        cc.log_opts({"color": "1"})
    # local: docker's defaults (20 MB, 5 files) and its own option set; none: nothing kept
    assert cc.log_opts({}, "local") == (20 * 1024 ** 2, 5)
    assert cc.log_opts({"max-file": "2"}, "local") == (20 * 1024 ** 2, 2)
    with pytest.raises(InvalidArgument, match="for local log driver"):
        cc.log_opts({"labels": "a"}, "local")
    assert cc.log_opts({"whatever": "1"}, "none") == (0, 1)


def test_log_driver_choice():
    hc = cc.host_config({"HostConfig": {"LogConfig": {"Type": "local"}}})
    assert hc["LogConfig"] == {"Type": "local", "Config": {}}
    assert cc.host_config({})["LogConfig"] == {"Type": "json-file", "Config": {}}
    with pytest.raises(InvalidArgument, match="no log driver named 'x'"):
        cc.host_config({"HostConfig": {"LogConfig": {"Type": "x"}}})
    with pytest.raises(InvalidArgument, match="not supported by dockyard"):
        cc.host_config({"HostConfig": {"LogConfig": {"Type": "journald"}}})


def test_rm_and_restart_conflict():
    with pytest.raises(InvalidArgument, match="--restart and --rm"):
        cc.host_config({"HostConfig": {"AutoRemove": True, "RestartPolicy": {"Name": "always"}}})


def test_config_takes_image_defaults():
    img = {"Env": ["PATH=/bin", "A=1"], "Cmd": ["sh"], "WorkingDir": "/w", "User": "u"}
    cfg = cc.config({"Image": "x", "Env": ["A=2"]}, img)
    assert cfg["Cmd"] == ["sh"] and cfg["WorkingDir"] == "/w" and cfg["User"] == "u"
    assert cfg["Env"] == ["PATH=/bin", "A=2"]
    cfg = cc.config({"Image": "x", "Entrypoint": ["echo"]}, {"Cmd": ["sh"], "Entrypoint": ["x"]})
    assert cfg["Entrypoint"] == ["echo"] and not cfg.get("Cmd")
    with pytest.raises(InvalidArgument, match="no command"):
        cc.config({"Image": "x"}, {})
