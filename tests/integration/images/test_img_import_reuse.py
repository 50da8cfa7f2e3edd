"""Import spools the tar first and skips unpacking a layer that is already unpacked."""
from __future__ import annotations

import gzip
import io
import json
import os

import pytest

from dockyard.errors import InvalidArgument
from dockyard.image import unpack

pytestmark = pytest.mark.root


def _state(engine):
    engine.images
    rows = {t: engine.meta.query_one(f"SELECT COUNT(*) FROM {t}")[0]
            for t in ("images", "image_refs", "layers", "layer_blobs", "image_layers")}
    return (sorted(engine.content.list()), sorted(engine.snapshots.committed()), rows,
            sorted(os.listdir(os.path.join(engine.snapshots.root, "a"))),
            os.listdir(engine.content.ingest_dir))


@pytest.fixture
def unpacks(monkeypatch):
    """Counts the layer extractions import does."""
    calls = []
    real = unpack.apply_tar

    def counting(*a, **kw):
        calls.append(a[1])
        return real(*a, **kw)
    monkeypatch.setattr(unpack, "apply_tar", counting)
    return calls


def test_reimport_reuses_the_unpacked_layer(engine, busybox_tar, unpacks, mount_image):
    data = open(busybox_tar, "rb").read()
    first = engine.images.import_image(io.BytesIO(data), "bb:1")
    assert len(unpacks) == 1
    blobs = sorted(engine.content.list())
    second = engine.images.import_image(io.BytesIO(data), "bb:2", ["CMD sh"])
    assert len(unpacks) == 1  # nothing extracted the second time
    one, two = engine.images.get(first), engine.images.get(second)
    assert one.diff_ids == two.diff_ids
    assert engine.images.rootfs_layers(first) == engine.images.rootfs_layers(second)
    assert engine.images.size(second) == engine.images.size(first) > 0
    # only the new config blob was added; no scratch snapshot or ingest file is left
    assert set(engine.content.list()) - set(blobs) == {second}
    assert os.listdir(os.path.join(engine.snapshots.root, "a")) == []
    assert os.listdir(engine.content.ingest_dir) == []
    root = mount_image(engine, second)
    assert os.path.islink(os.path.join(root, "bin/sh"))


def test_gzip_and_plain_imports_share_one_layer(engine, busybox_tar, unpacks):
    plain = open(busybox_tar, "rb").read()
    gz = gzip.compress(plain)
    a = engine.images.import_image(io.BytesIO(gz), "gz:1")
    b = engine.images.import_image(io.BytesIO(plain), "plain:1")
    assert len(unpacks) == 1
    diff_id = engine.images.get(a).diff_ids[0]
    assert engine.images.get(b).diff_ids == [diff_id]
    kinds = sorted(m.rsplit(".", 1)[-1] for _, m, *_ in engine.images._blobs_of(diff_id))
    assert len(kinds) == 2 and any(k.endswith("gzip") for k in kinds)
    c = engine.images.import_image(io.BytesIO(gz), "gz:2")  # gzip again: reused as well
    assert len(unpacks) == 1 and engine.images.get(c).diff_ids == [diff_id]
    assert engine.images.size(a) == engine.images.size(b) == engine.images.size(c)


def test_a_layer_without_recorded_size_is_unpacked_again(engine, busybox_tar, unpacks):
    """Snapshots committed before sizes were recorded: the old path, extract and drop."""
    data = open(busybox_tar, "rb").read()
    first = engine.images.import_image(io.BytesIO(data), "bb:1")
    chain = engine.images.rootfs_layers(first)[0]
    info = os.path.join(os.path.dirname(engine.snapshots.dir(chain)), "info.json")
    with open(info) as f:
        doc = json.load(f)
    del doc["size"]
    with open(info, "w") as f:
        json.dump(doc, f)
    second = engine.images.import_image(io.BytesIO(data), "bb:2", ["CMD sh"])
    assert len(unpacks) == 2
    assert engine.images.rootfs_layers(second) == [chain]
    assert engine.images.size(second) == engine.images.size(first)
    assert os.listdir(os.path.join(engine.snapshots.root, "a")) == []
    # the second unpack taught the old snapshot its size: a third import reuses it
    assert engine.snapshots.recorded_size(chain) == engine.images.size(first)
    engine.images.import_image(io.BytesIO(data), "bb:3")
    assert len(unpacks) == 2


def test_import_after_rmi_unpacks_again(engine, busybox_tar, unpacks, mount_image):
    data = open(busybox_tar, "rb").read()
    engine.images.import_image(io.BytesIO(data), "bb:1")
    engine.images.remove("bb:1")
    assert engine.snapshots.committed() == []
    image_id = engine.images.import_image(io.BytesIO(data), "bb:1")
    assert len(unpacks) == 2
    assert os.path.exists(os.path.join(mount_image(engine, image_id), "bin/busybox"))


@pytest.mark.parametrize("cut", [0.3, 0.9])
def test_truncated_gzip_import_leaves_nothing(engine, busybox_tar, cut):
    gz = gzip.compress(open(busybox_tar, "rb").read())
    before = _state(engine)
    with pytest.raises(InvalidArgument, match="corrupt or truncated compressed data"):
        engine.images.import_image(io.BytesIO(gz[:int(len(gz) * cut)]), "bad:1")
    assert _state(engine) == before


def test_truncated_plain_import_leaves_nothing(engine, busybox_tar):
    data = open(busybox_tar, "rb").read()
    before = _state(engine)
    with pytest.raises(InvalidArgument, match="truncated"):
        engine.images.import_image(io.BytesIO(data[: len(data) // 2 + 100]), "bad:1")
    assert _state(engine) == before


def test_not_a_tar_leaves_nothing(engine):
    before = _state(engine)
    with pytest.raises(InvalidArgument):
        engine.images.import_image(io.BytesIO(b"hello, not a tar" * 100), "bad:1")
    with pytest.raises(InvalidArgument, match="empty"):
        engine.images.import_image(io.BytesIO(b""), "bad:1")
    assert _state(engine) == before


def _with_extra_member(data: bytes, name: str, body: bytes) -> bytes:
    import tarfile
    out = io.BytesIO()
    with tarfile.open(fileobj=io.BytesIO(data)) as src, tarfile.open(fileobj=out, mode="w") as dst:
        for m in src:
            dst.addfile(m, src.extractfile(m) if m.isreg() else None)
        ti = tarfile.TarInfo(name)
        ti.size = len(body)
        dst.addfile(ti, io.BytesIO(body))
    return out.getvalue()


def test_a_similar_tar_is_unpacked(engine, busybox_tar, unpacks, mount_image):
    """Only the whole digest decides: a tar that differs in its last member is new."""
    data = open(busybox_tar, "rb").read()
    engine.images.import_image(io.BytesIO(_with_extra_member(data, "a", b"1")), "one:1")
    image_id = engine.images.import_image(
        io.BytesIO(_with_extra_member(data, "b", b"22")), "two:1")
    assert len(unpacks) == 2
    root = mount_image(engine, image_id)
    assert open(os.path.join(root, "b")).read() == "22"
    assert not os.path.exists(os.path.join(root, "a"))


def test_truncated_import_next_to_a_present_layer_leaves_nothing(engine, busybox_tar):
    data = open(busybox_tar, "rb").read()
    engine.images.import_image(io.BytesIO(data), "bb:1")
    before = _state(engine)
    for cut in (data[: len(data) // 2 + 100], gzip.compress(data)[: len(data) // 4]):
        with pytest.raises(InvalidArgument, match="truncated"):
            engine.images.import_image(io.BytesIO(cut), "bad:1")
    assert _state(engine) == before
