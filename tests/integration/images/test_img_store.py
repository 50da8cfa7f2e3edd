"""The image store on a real kernel: import, tags, rmi rules, commit, save/load, atomicity."""
from __future__ import annotations

import gzip
import io
import json
import os
import tarfile

import pytest

from dockyard.errors import Conflict, InvalidArgument, NotFound

pytestmark = pytest.mark.root


def _import(engine, tar_path, ref="busybox:latest", changes=()):
    with open(tar_path, "rb") as f:
        return engine.images.import_image(f, ref, list(changes))


def _store_state(engine):
    """Everything that may be left behind: blobs, snapshots, rows."""
    engine.images  # creates the tables
    rows = {t: engine.meta.query_one(f"SELECT COUNT(*) FROM {t}")[0]
            for t in ("images", "image_refs", "layers", "layer_blobs", "image_layers")}
    return sorted(engine.content.list()), sorted(engine.snapshots.committed()), rows, \
        sorted(os.listdir(os.path.join(engine.snapshots.root, "a")))


def test_import_list_inspect_history(engine, busybox_tar, mount_image):
    image_id = _import(engine, busybox_tar, changes=['CMD ["sh"]', "ENV A=1"])
    [entry] = engine.images.list()
    assert entry["Id"] == image_id and entry["RepoTags"] == ["busybox:latest"]
    info = engine.images.inspect("busybox")
    assert info["Config"]["Cmd"] == ["sh"] and info["Config"]["Env"] == ["A=1"]
    assert info["RootFS"]["Layers"] == [engine.images.get(image_id).diff_ids[0]]
    assert engine.images.get(image_id[7:19]).id == image_id  # short ID
    [h] = engine.images.history("busybox")
    assert h["Id"] == image_id and h["Comment"] == "Imported from -" and h["Tags"] == ["busybox:latest"]
    root = mount_image(engine, image_id)
    assert os.path.islink(os.path.join(root, "bin/sh")) and os.path.exists(os.path.join(root, "bin/busybox"))


def test_gzip_import_keeps_the_gzip_blob(engine, busybox_tar):
    data = gzip.compress(open(busybox_tar, "rb").read())
    image_id = engine.images.import_image(io.BytesIO(data), "gz:1")
    diff_id = engine.images.get(image_id).diff_ids[0]
    blobs = engine.images._blobs_of(diff_id)
    assert blobs[0][1].endswith("gzip") and engine.content.read(blobs[0][0]) == data


def test_tags_and_rmi_rules(engine, busybox_tar):
    image_id = _import(engine, busybox_tar)
    engine.images.tag("busybox", "localhost:5000/bb:2")
    with pytest.raises(Conflict, match="referenced in multiple repositories"):
        engine.images.remove(image_id[7:19])
    assert engine.images.remove("localhost:5000/bb:2") == [{"Untagged": "localhost:5000/bb:2"}]
    engine.images.in_use_check = lambda i: ["c" * 64] if i == image_id else []
    with pytest.raises(Conflict, match="container cccccccccccc is using"):
        engine.images.remove("busybox")
    engine.images.in_use_check = lambda i: []
    out = engine.images.remove("busybox")
    assert out[0] == {"Untagged": "busybox:latest"} and {"Deleted": image_id} in out
    with pytest.raises(NotFound, match="No such image: busybox"):
        engine.images.get("busybox")
    assert engine.snapshots.committed() == [] and list(engine.content.list()) == []


def test_commit_child_keeps_parent_until_child_goes(engine, busybox_tar, mount_image, tmp_path):
    base = _import(engine, busybox_tar)
    upper = tmp_path / "upper"
    (upper / "etc").mkdir(parents=True)
    (upper / "etc/motd").write_text("hi\n")
    os.mknod(upper / "etc/group", 0o20000 | 0o600, os.makedev(0, 0))  # whiteout
    child = engine.images.create_from_snapshot(base, str(upper), {"Cmd": ["cat", "/etc/motd"]},
                                               {"created_by": "/bin/sh -c echo hi > /etc/motd"}, "child:1")
    cfg = engine.images.create_config_only(child, {"Env": ["X=1"]},
                                           {"created_by": "/bin/sh -c #(nop) ENV X=1"}, "child:2")
    root = mount_image(engine, cfg)
    assert open(os.path.join(root, "etc/motd")).read() == "hi\n"
    assert not os.path.exists(os.path.join(root, "etc/group"))
    hist = engine.images.history("child:2")
    assert [h["Id"] for h in hist] == [cfg, child, base]
    assert hist[0]["Size"] == 0 and hist[1]["Size"] == 3
    with pytest.raises(Conflict, match="dependent child images"):
        engine.images.remove(base)
    engine.images.remove("busybox")  # untag only: children need it
    assert engine.images.get(base)
    assert [i["Id"] for i in engine.images.list()] == [cfg, child] or \
        {i["Id"] for i in engine.images.list()} == {cfg, child}
    engine.images.remove("child:1")
    out = engine.images.remove("child:2")
    assert {"Deleted": base} in out and engine.images.ids() == []


@pytest.mark.parametrize("fmt", ["docker-archive", "oci-archive"])
def test_save_load_round_trip_keeps_ids(engine, busybox_tar, tmp_path, fmt):
    image_id = _import(engine, busybox_tar, changes=["CMD sh"])
    diff_ids = engine.images.get(image_id).diff_ids
    path = tmp_path / "out.tar"
    with open(path, "wb") as f:
        for chunk in engine.images.save(["busybox"], fmt):
            f.write(chunk)
    engine.images.remove("busybox")
    with open(path, "rb") as f:
        assert engine.images.load_archive(f, "out.tar") == ["Loaded image: busybox:latest"]
    img = engine.images.get("busybox")
    assert img.id == image_id and img.diff_ids == diff_ids


def _save(engine, name, path):
    with open(path, "wb") as f:
        for chunk in engine.images.save([name]):
            f.write(chunk)


def _rewrite(src, dst, change):
    """Copy a tar, letting ``change(name, data)`` return new bytes (or None to drop it)."""
    with tarfile.open(src) as tin, tarfile.open(dst, "w") as tout:
        for m in tin:
            data = tin.extractfile(m).read() if m.isreg() else None
            if data is not None:
                data = change(m.name, data)
                if data is None:
                    continue
                m.size = len(data)
            tout.addfile(m, io.BytesIO(data) if data is not None else None)


def test_load_with_wrong_diff_id_leaves_nothing(engine, busybox_tar, tmp_path):
    _import(engine, busybox_tar)
    _save(engine, "busybox", tmp_path / "ok.tar")
    engine.images.remove("busybox")
    before = _store_state(engine)

    def corrupt(name, data):
        if name.endswith("layer.tar"):
            return data[:-2048] + b"\1" * 1024 + b"\0" * 1024  # still a tar, other bytes
        return data
    _rewrite(tmp_path / "ok.tar", tmp_path / "bad.tar", corrupt)
    with open(tmp_path / "bad.tar", "rb") as f, pytest.raises(InvalidArgument, match="diff ID"):
        engine.images.load_archive(f, "bad.tar")
    assert _store_state(engine) == before


def test_truncated_load_leaves_nothing(engine, busybox_tar, tmp_path):
    _import(engine, busybox_tar)
    _save(engine, "busybox", tmp_path / "ok.tar")
    engine.images.remove("busybox")
    before = _store_state(engine)
    data = open(tmp_path / "ok.tar", "rb").read()
    with pytest.raises(InvalidArgument, match="bad.tar"):
        engine.images.load_archive(io.BytesIO(data[: len(data) * 2 // 3]), "bad.tar")
    assert _store_state(engine) == before


def test_bad_import_leaves_nothing(engine, tmp_path):
    before = _store_state(engine)
    with pytest.raises(InvalidArgument, match="escapes"):
        engine.images.import_image(io.BytesIO(_evil_tar()), "evil:1")
    assert _store_state(engine) == before


def _evil_tar() -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tf:
        ti = tarfile.TarInfo("ok")
        tf.addfile(ti, io.BytesIO(b""))
        ti = tarfile.TarInfo("../../escape")
        tf.addfile(ti, io.BytesIO(b""))
    return buf.getvalue()


def test_crash_mid_load_is_rolled_back_on_start(engine, busybox_tar, tmp_path):
    """A lease left by a killed daemon: recover() removes what it lists and the DB lacks."""
    from dockyard.image import unpack
    from dockyard.image.lease import Lease
    before = _store_state(engine)
    lease = Lease(engine.images.lease_dir)
    with open(busybox_tar, "rb") as f:
        unpack.ingest_stream(engine.content, engine.snapshots, f, None, lease)
    # the "crash": no DB rows, lease file still on disk
    assert _store_state(engine) != before
    engine.images.recover()
    assert _store_state(engine) == before and os.listdir(engine.images.lease_dir) == []


def test_push_blobs_are_stable(engine, busybox_tar):
    image_id = _import(engine, busybox_tar)
    first = engine.images.layer_blobs_for_push(image_id)
    second = engine.images.layer_blobs_for_push(image_id)
    assert first == second
    manifest = json.loads(first[0])
    assert manifest["config"]["digest"] == image_id
    assert manifest["layers"][0]["mediaType"].endswith("gzip")
    data = engine.content.read(first[3][0][0])
    assert gzip.decompress(data) == open(engine.content.path(
        engine.images._blobs_of(engine.images.get(image_id).diff_ids[0])[0][0]), "rb").read()


def test_filters(engine, busybox_tar):
    image_id = _import(engine, busybox_tar, changes=["LABEL team=docs"])
    engine.images.tag(image_id, "other/name:v1")
    refs = lambda f: sorted(t for i in engine.images.list(filters=f) for t in i["RepoTags"])
    assert refs({"reference": ["other/*"]}) == ["other/name:v1"]
    assert refs({"reference": ["busybox:latest"]}) == ["busybox:latest"]
    assert refs({"label": ["team=docs"]}) == ["busybox:latest", "other/name:v1"]
    assert refs({"label": ["team=x"]}) == []
    assert engine.images.list(filters={"dangling": ["true"]}) == []
    with pytest.raises(InvalidArgument, match="invalid filter 'nope'"):
        engine.images.list(filters={"nope": ["1"]})
