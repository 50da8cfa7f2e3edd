"""Reading image archives: docker-archive manifest.json, OCI index.json, bad input."""
from __future__ import annotations

import hashlib
import io
import json
import tarfile

import pytest

from dockyard.errors import InvalidArgument
from dockyard.image import archive
from dockyard.oci import image as oci
from dockyard.store.content import ContentStore


class _Lease:
    def __init__(self):
        self.blobs = []

    def add_blob(self, d):
        self.blobs.append(d)


def _tar(entries: dict[str, bytes], links: dict[str, str] | None = None) -> io.BytesIO:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tf:
        for name, data in entries.items():
            ti = tarfile.TarInfo(name)
            ti.size = len(data)
            tf.addfile(ti, io.BytesIO(data))
        for name, target in (links or {}).items():
            ti = tarfile.TarInfo(name)
            ti.type, ti.linkname = tarfile.SYMTYPE, target
            tf.addfile(ti)
    buf.seek(0)
    return buf


def _sha(b: bytes) -> str:
    return "sha256:" + hashlib.sha256(b).hexdigest()


LAYER = b"\0" * 1024
CONFIG = json.dumps({"rootfs": {"type": "layers", "diff_ids": [_sha(LAYER)]}}).encode()


@pytest.fixture
def content(tmp_path):
    return ContentStore(str(tmp_path / "content"))


def test_docker_archive_with_symlinked_layer(content):
    manifest = [{"Config": "c.json", "RepoTags": ["x:1"], "Layers": ["a/layer.tar", "b/layer.tar"]}]
    arc = archive.read_archive(_tar({"c.json": CONFIG, "a/layer.tar": LAYER,
                                     "manifest.json": json.dumps(manifest).encode()},
                                    {"b/layer.tar": "../a/layer.tar"}), content, _Lease(), "t.tar")
    items = archive.load_items(arc, content, _Lease())
    assert items[0].tags == ["docker.io/library/x:1"] and items[0].config == CONFIG
    assert [l.digest for l in items[0].layers] == [_sha(LAYER)] * 2
    assert items[0].layers[0].media_type == oci.OCI_LAYER


def test_oci_layout_with_annotations(content):
    cdesc = oci.descriptor(oci.OCI_CONFIG, _sha(CONFIG), len(CONFIG))
    man = oci.manifest(cdesc, [oci.descriptor(oci.OCI_LAYER, _sha(LAYER), len(LAYER))])
    index = {"schemaVersion": 2, "manifests": [oci.descriptor(
        oci.OCI_MANIFEST, _sha(man), len(man),
        annotations={"io.containerd.image.name": "localhost:5000/y:2"})]}
    files = {f"blobs/sha256/{_sha(b)[7:]}": b for b in (CONFIG, LAYER, man)}
    files["index.json"] = json.dumps(index).encode()
    files["oci-layout"] = b'{"imageLayoutVersion":"1.0.0"}'
    arc = archive.read_archive(_tar(files), content, _Lease(), "o.tar")
    items = archive.load_items(arc, content, _Lease())
    assert items[0].tags == ["localhost:5000/y:2"] and items[0].manifest == _sha(man)


def test_blob_that_does_not_match_its_name_is_rejected(content):
    big = b"y" * (archive._IN_MEMORY_MAX + 10)
    lease = _Lease()
    with pytest.raises(InvalidArgument, match="does not match its digest"):
        archive.read_archive(_tar({"blobs/sha256/" + "0" * 64: big}), content, lease, "bad.tar")
    assert list(content.list()) == []


def test_small_blob_mismatch_is_caught_when_used(content):
    index = {"schemaVersion": 2, "manifests": [oci.descriptor(oci.OCI_MANIFEST, "sha256:" + "1" * 64, 2)]}
    arc = archive.read_archive(_tar({"index.json": json.dumps(index).encode(),
                                     "blobs/sha256/" + "1" * 64: b"{}"}), content, _Lease(), "m.tar")
    with pytest.raises(InvalidArgument, match="does not match"):
        archive.load_items(arc, content, _Lease())


@pytest.mark.parametrize("entries,msg", [
    ({"hello.txt": b"hi"}, "not an image archive"),
    ({"manifest.json": b"{not json"}, "not valid JSON"),
    ({"manifest.json": b'[{"RepoTags": []}]'}, "missing Config"),
    ({"manifest.json": b'[{"Config": "nope.json", "Layers": []}]'}, "missing from the archive"),
])
def test_not_an_image_says_what_is_wrong(content, entries, msg):
    with pytest.raises(InvalidArgument, match=msg):
        arc = archive.read_archive(_tar(entries), content, _Lease(), "x.tar")
        archive.load_items(arc, content, _Lease())


def test_entry_escaping_archive_root_is_rejected(content):
    with pytest.raises(InvalidArgument, match="escapes"):
        archive.read_archive(_tar({"../evil": b"x"}), content, _Lease(), "e.tar")


def test_truncated_archive(content):
    data = _tar({"a/layer.tar": b"z" * (archive._IN_MEMORY_MAX * 2)}).getvalue()
    with pytest.raises(InvalidArgument, match="truncated|not a valid tar"):
        archive.read_archive(io.BytesIO(data[: len(data) // 2]), content, _Lease(), "t.tar")
    assert list(content.list()) == []
