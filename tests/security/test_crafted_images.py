"""Hostile images: layer tars that try to write outside the snapshot they unpack into.

Each crafted rootfs is imported through the API (the same layer code serves load and
pull). Whatever the daemon answers, nothing may appear on the host outside its data
root, and a refused import leaves no image behind.
"""
import io
import os
import tarfile
import uuid

import pytest

from dockyard.errors import DockyardError

pytestmark = pytest.mark.root


def _tar(members) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tf:
        for ti, data in members:
            tf.addfile(ti, io.BytesIO(data) if data is not None else None)
    return buf.getvalue()


def _file(name, data=b"pwned\n"):
    ti = tarfile.TarInfo(name)
    ti.size = len(data)
    return ti, data


def _link(name, target, kind=tarfile.SYMTYPE):
    ti = tarfile.TarInfo(name)
    ti.type, ti.linkname = kind, target
    return ti, None


def _dir(name):
    ti = tarfile.TarInfo(name)
    ti.type, ti.mode = tarfile.DIRTYPE, 0o755
    return ti, None


@pytest.fixture
def target(tmp_path):
    """A host directory the crafted layers aim at."""
    d = tmp_path / "host-target"
    d.mkdir()
    (d / "existing").write_text("host data\n")
    return d


def _cases(t):
    victim = f"{t}/victim"
    return {
        "dotdot": [_file("../../../../../../" + victim.lstrip("/"))],
        "absolute": [_file(victim)],
        "symlink-dir-then-file": [_link("evil", str(t)), _file("evil/victim")],
        "relative-symlink-out": [_link("evil", "../../../../../../../../" + str(t).lstrip("/")),
                                 _file("evil/victim")],
        "hardlink-to-host-file": [_link("hl", f"{t}/existing", tarfile.LNKTYPE),
                                  _file("hl", b"overwrite\n")],
        "hardlink-dotdot": [_link("hl", "../../../../../../" + f"{t}/existing".lstrip("/"),
                                  tarfile.LNKTYPE)],
        "symlink-chain": [_dir("a"), _link("a/b", "../../../../../../../../.."),
                          _link("c", "a/b" + str(t)), _file("c/victim")],
        "whiteout-host-path": [_file(f"../../../../../../{str(t).lstrip('/')}/.wh.existing", b"")],
        "opaque-whiteout-out": [_link("o", str(t)), _file("o/.wh..wh..opq", b"")],
        "device-node": [(lambda ti: (setattr(ti, "type", tarfile.BLKTYPE), setattr(ti, "devmajor", 8),
                                     setattr(ti, "devminor", 0), (ti, None))[-1])(tarfile.TarInfo("sda"))],
    }


@pytest.mark.parametrize("case", ["dotdot", "absolute", "symlink-dir-then-file",
                                  "relative-symlink-out", "hardlink-to-host-file",
                                  "hardlink-dotdot", "symlink-chain", "whiteout-host-path",
                                  "opaque-whiteout-out", "device-node"])
def test_crafted_layer_cannot_touch_host(daemon, target, case, tally):
    data = _tar(_cases(target)[case])
    repo = "evil-" + uuid.uuid4().hex[:8]
    try:
        daemon.client.post("/images/create", {"fromSrc": "-", "repo": repo, "tag": "x"},
                           body=data, headers={"Content-Type": "application/x-tar"})
        accepted = True
    except DockyardError:
        accepted = False
    escaped = (target / "victim").exists() or (target / "existing").read_text() != "host data\n" \
        or not (target / "existing").exists()
    tally.add("dockyard import", f"crafted-layer-{case}", "ESCAPED" if escaped else "BLOCKED")
    assert not escaped
    if accepted:  # contained: whatever it made lives inside the image only
        daemon.client.delete(f"/images/{repo}:x", {"force": 1})
    else:
        assert not [i for i in daemon.client.get("/images/json", {"all": 1})
                    if any(t.startswith(repo) for t in (i.get("RepoTags") or []))]
