"""config.json checks: every error names the field path."""
from __future__ import annotations

import json

import pytest

from dockyard.errors import InvalidArgument, NotFound
from dockyard.runtime import spec


def good() -> dict:
    return {"ociVersion": "1.0.2", "root": {"path": "rootfs"},
            "process": {"args": ["sh"], "cwd": "/", "env": ["A=b"]},
            "linux": {"namespaces": [{"type": "mount"}, {"type": "pid"}]}}


@pytest.mark.parametrize("mutate, field", [
    (lambda c: c.pop("ociVersion"), "ociVersion"),
    (lambda c: c["process"].update(args=[]), "process.args"),
    (lambda c: c["process"].update(args=["sh", 3]), "process.args[1]"),
    (lambda c: c["process"].update(env=["NOEQUALS"]), "process.env[0]"),
    (lambda c: c["process"].update(cwd="relative"), "process.cwd"),
    (lambda c: c["process"].update(user={"uid": "0"}), "process.user.uid"),
    (lambda c: c["process"].update(rlimits=[{"type": "RLIMIT_BOGUS", "soft": 1, "hard": 1}]),
     "process.rlimits[0].type"),
    (lambda c: c["linux"]["namespaces"].append({"type": "bogus"}), "linux.namespaces[2].type"),
    (lambda c: c["linux"]["namespaces"].append({"type": "pid"}), "linux.namespaces[2].type"),
    (lambda c: c["linux"].update(namespaces=[{"type": "pid"}]), "linux.namespaces"),
    (lambda c: c["linux"]["namespaces"].append({"type": "net", "path": "/x"}),
     "linux.namespaces[2].type"),
    (lambda c: c.update(mounts=[{"destination": "rel"}]), "mounts[0].destination"),
    (lambda c: c.update(mounts=[{"destination": "/x", "options": [1]}]), "mounts[0].options[0]"),
    (lambda c: c.update(hooks={"prestart": [{"path": "rel"}]}), "hooks.prestart[0].path"),
    (lambda c: c.update(hooks={"bogus": []}), "hooks.bogus"),
    (lambda c: c["linux"].update(uidMappings=[{"containerID": 0, "hostID": 1}]),
     "linux.uidMappings[0].size"),
    (lambda c: c["linux"].update(rootfsPropagation="weird"), "linux.rootfsPropagation"),
    (lambda c: c["root"].update(readonly="yes"), "root.readonly"),
])
def test_bad_fields_are_named(mutate, field):
    config = good()
    mutate(config)
    with pytest.raises(InvalidArgument) as e:
        spec.check(config)
    assert f"config.json: {field}:" in str(e.value)


def test_namespace_path_must_exist():
    config = good()
    config["linux"]["namespaces"].append({"type": "network", "path": "/nonexistent/ns"})
    with pytest.raises(InvalidArgument, match=r"linux.namespaces\[2\].path"):
        spec.check(config)


def test_good_config_passes():
    spec.check(good())


def test_load_missing_and_malformed(tmp_path):
    with pytest.raises(NotFound, match="config.json"):
        spec.load(str(tmp_path))
    (tmp_path / "config.json").write_text("{nope")
    with pytest.raises(InvalidArgument, match="malformed JSON"):
        spec.load(str(tmp_path))


def test_load_resolves_rootfs(tmp_path):
    (tmp_path / "rootfs").mkdir()
    (tmp_path / "config.json").write_text(json.dumps(good()))
    config = spec.load(str(tmp_path))
    assert config["root"]["path"] == str((tmp_path / "rootfs").resolve())


def test_load_rootfs_missing(tmp_path):
    (tmp_path / "config.json").write_text(json.dumps(good()))
    with pytest.raises(InvalidArgument, match="root.path"):
        spec.load(str(tmp_path))


def test_check_process_alone():
    with pytest.raises(InvalidArgument, match="process.args"):
        spec.check_process({"cwd": "/"})
