"""A build step's snapshot committed in place as the new layer (no second unpack)."""
from __future__ import annotations

import hashlib
import os

import pytest

from dockyard.errors import InvalidArgument

pytestmark = pytest.mark.root


def _step(engine, base: str, key: str) -> str:
    """An active snapshot over ``base``'s top layer with a file, a dir and a whiteout."""
    top = engine.images.rootfs_layers(base)[-1]
    engine.snapshots.prepare(key, top)
    upper = engine.snapshots.upper(key)
    os.makedirs(os.path.join(upper, "srv/app"))
    with open(os.path.join(upper, "srv/app/data"), "wb") as f:
        f.write(b"x" * 5000)
    os.makedirs(os.path.join(upper, "etc"))
    os.mknod(os.path.join(upper, "etc/group"), 0o20000 | 0o600, os.makedev(0, 0))
    return upper


def test_step_snapshot_becomes_the_layer(engine, busybox_tar, mount_image):
    with open(busybox_tar, "rb") as f:
        base = engine.images.import_image(f, "busybox:latest")
    upper = _step(engine, base, "extract-build-t1")
    image_id = engine.images.create_from_snapshot(
        base, upper, {"Cmd": ["sh"]}, {"created_by": "RUN x"}, snapshot_key="extract-build-t1")
    assert not engine.snapshots.exists("extract-build-t1")  # renamed, not copied
    img = engine.images.get(image_id)
    chain = img.chain_ids[-1]
    layer_dir = engine.snapshots.dir(chain)
    assert open(os.path.join(layer_dir, "srv/app/data"), "rb").read() == b"x" * 5000
    assert not os.path.exists(os.path.join(layer_dir, "work"))
    # the stored blob is the layer tar: its sha256 is the diff ID (save/push use it as is)
    diff_id = img.diff_ids[-1]
    assert "sha256:" + hashlib.sha256(engine.content.read(diff_id)).hexdigest() == diff_id
    assert engine.images.history(image_id)[0]["Size"] == 5000
    root = mount_image(engine, image_id)
    assert os.path.getsize(os.path.join(root, "srv/app/data")) == 5000
    assert not os.path.exists(os.path.join(root, "etc/group"))
    assert os.path.exists(os.path.join(root, "bin/busybox"))


def test_identical_layer_leaves_the_snapshot_to_the_caller(engine, busybox_tar):
    with open(busybox_tar, "rb") as f:
        base = engine.images.import_image(f, "busybox:latest")
    first = _step(engine, base, "extract-build-a")
    second = _step(engine, base, "extract-build-b")
    for path in (first, second):  # same content, same mtimes: the same layer tar
        for dirpath, dirs, files in os.walk(path):
            for name in dirs + files:
                os.utime(os.path.join(dirpath, name), (1_700_000_000, 1_700_000_000),
                         follow_symlinks=False)
    a = engine.images.create_from_snapshot(base, first, {}, {"created_by": "a"},
                                           snapshot_key="extract-build-a")
    b = engine.images.create_from_snapshot(base, second, {}, {"created_by": "b"},
                                           snapshot_key="extract-build-b")
    assert engine.images.rootfs_layers(a) == engine.images.rootfs_layers(b)
    assert engine.snapshots.exists("extract-build-b")  # not committed: the caller removes it
    engine.snapshots.remove("extract-build-b")


def test_failure_after_the_rename_rolls_the_layer_back(engine, busybox_tar):
    with open(busybox_tar, "rb") as f:
        base = engine.images.import_image(f, "busybox:latest")
    blobs = sorted(engine.content.list())
    committed = sorted(engine.snapshots.committed())
    upper = _step(engine, base, "extract-build-t2")
    with pytest.raises(InvalidArgument):  # a bad tag fails in the final transaction
        engine.images.create_from_snapshot(base, upper, {}, {"created_by": "x"},
                                           ref="Bad Name!", snapshot_key="extract-build-t2")
    assert sorted(engine.snapshots.committed()) == committed
    assert sorted(engine.content.list()) == blobs
    assert engine.meta.query_one("SELECT COUNT(*) FROM layers")[0] == 1
    assert os.listdir(engine.images.lease_dir) == []


CRASH = """
import os, sys
from dockyard.engine import Engine
from dockyard.image.commit import CreateMixin
e = Engine(sys.argv[1], sys.argv[2])
base = e.images.resolve("busybox:latest")
e.snapshots.prepare("extract-build-crash", e.images.rootfs_layers(base)[-1])
upper = e.snapshots.upper("extract-build-crash")
open(os.path.join(upper, "f"), "w").write("x")
CreateMixin._finish = lambda *a, **k: os._exit(9)  # dies after the rename, before the rows
e.images.create_from_snapshot(base, upper, {}, {"created_by": "x"},
                              snapshot_key="extract-build-crash")
"""


def test_killed_mid_step_is_rolled_back_at_start(tmp_path, busybox_tar):
    """The lease of a build step is not fsync'd, yet a killed daemon's is rolled back."""
    import subprocess
    import sys
    from dockyard.engine import Engine
    data, run = str(tmp_path / "data"), str(tmp_path / "run")
    e = Engine(data, run)
    with open(busybox_tar, "rb") as f:
        e.images.import_image(f, "busybox:latest")
    before = (sorted(e.content.list()), sorted(e.snapshots.committed()))
    e.close()
    r = subprocess.run([sys.executable, "-c", CRASH, data, run], capture_output=True, text=True)
    assert r.returncode == 9, r.stderr
    e = Engine(data, run)
    try:
        assert len(e.snapshots.committed()) == len(before[1]) + 1  # the renamed layer, orphaned
        assert os.listdir(e.images.lease_dir)
        e.images.recover()
        assert (sorted(e.content.list()), sorted(e.snapshots.committed())) == before
        assert os.listdir(e.images.lease_dir) == []
        assert os.listdir(os.path.join(e.snapshots.root, "a")) == []
    finally:
        e.close()
