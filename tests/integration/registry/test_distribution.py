"""The distribution client against a real docker-registry (2.8) on 127.0.0.1.

These tests drive dockyard.registry's Pusher and Puller with the content store and
metadata DB alone. ``RecordingImages`` stands in for the image service's
``add_image``/``get`` (another module's contract) so the client layer is checked on
its own; the daemon-level tests in test_api_registry.py use the real image service.
"""
from __future__ import annotations

import json
import os
import subprocess
import types

import pytest

from dockyard.errors import InvalidArgument, NotFound, Unavailable
from dockyard.oci import digest as dg
from dockyard.oci import image as oi
from dockyard.oci import reference
from dockyard.registry import pull as pull_mod
from dockyard.registry import push as push_mod
from dockyard.registry.auth import Unauthorized
from dockyard.registry.client import RegistryClient
from dockyard.registry.progress import Channel
from dockyard.registry.pull import Puller
from dockyard.registry.push import Pusher
from dockyard.store.content import ContentStore
from dockyard.store.metadata import Metadata
from tests.integration.registry.imagekit import layer_tar, make_image, random_layer
from tests.integration.registry.regserver import Proxy


class RecordingImages:
    """Records add_image calls (the image service's contract); knows no images."""

    def __init__(self):
        self.added = []

    def get(self, name):
        raise NotFound(f"No such image: {name}")

    def add_image(self, config, layers, ref=None, repo_digest=None, manifest=None):
        self.added.append({"config": config, "layers": layers, "ref": ref,
                           "repo_digest": repo_digest, "manifest": manifest})


def engine_at(path) -> types.SimpleNamespace:
    return types.SimpleNamespace(content=ContentStore(f"{path}/content"),
                                 meta=Metadata(f"{path}/meta.db"), images=RecordingImages())


def collect(fn, *args) -> list[dict]:
    """Run ``fn(channel, *args)`` to the end; return its messages."""
    ch = Channel()
    fn(ch, *args)
    ch.close()
    return list(ch)


def push(engine, host, name, image, client=None, **kw) -> list[dict]:
    manifest, media, cfg, layers = image
    client = client or RegistryClient(host, **kw)
    ref = reference.parse(f"{host}/{name}")
    return collect(lambda ch: Pusher(engine, client, ref, ch).run(
        manifest, media, (cfg, engine.content.size(cfg)), layers))


def pull(engine, host, name, platform=None, client=None, **kw) -> list[dict]:
    client = client or RegistryClient(host, **kw)
    ref = reference.parse(f"{host}/{name}")
    return collect(lambda ch: Puller(engine, client, ref, ch, platform).run())


def statuses(msgs) -> list[str]:
    return [f"{m.get('id', '')}:{m['status']}" for m in msgs
            if "status" in m and not (m.get("progressDetail") or {}).get("current")]


@pytest.fixture
def src(tmp_path):
    eng = engine_at(tmp_path / "src")
    eng.image = make_image(eng.content, [random_layer(300_000), random_layer(3_000_000),
                                         {"etc/hostname": b"x\n"}])
    yield eng
    eng.meta.close()


@pytest.fixture
def dst(tmp_path):
    eng = engine_at(tmp_path / "dst")
    yield eng
    eng.meta.close()


def test_push_then_pull_round_trip(registry, src, dst):
    msgs = push(src, registry.host, "team/app:v1", src.image)
    manifest = src.image[0]
    assert msgs[0]["status"] == f"The push refers to repository [{registry.host}/team/app]"
    assert msgs[-1]["aux"] == {"Tag": "v1", "Digest": dg.of_bytes(manifest), "Size": len(manifest)}
    assert msgs[-2]["status"] == f"v1: digest: {dg.of_bytes(manifest)} size: {len(manifest)}"
    assert sum(1 for s in statuses(msgs) if s.endswith(":Pushed")) == 3

    msgs = pull(dst, registry.host, "team/app:v1")
    assert msgs[0] == {"status": "Pulling from team/app", "progressDetail": {}, "id": "v1"}
    assert msgs[-1]["status"] == f"Status: Downloaded newer image for {registry.host}/team/app:v1"
    assert msgs[-2]["status"] == f"Digest: {dg.of_bytes(manifest)}"
    for d, size, _ in src.image[3]:
        assert dst.content.size(d) == size and dst.content.verify(d)
        assert f"{dg.short_id(d)}:Download complete" in statuses(msgs)
    rec = dst.images.added[0]
    assert rec["config"] == src.content.read(src.image[2])
    assert rec["ref"] == f"{registry.host}/team/app:v1"
    assert rec["repo_digest"] == f"{registry.host}/team/app@{dg.of_bytes(manifest)}"
    assert [l.digest for l in rec["layers"]] == [d for d, _, _ in src.image[3]]
    assert dst.content.read(rec["manifest"]) == manifest


def test_second_pull_and_push_transfer_nothing(registry, src, dst):
    push(src, registry.host, "app:1", src.image)
    pull(dst, registry.host, "app:1")
    again = statuses(pull(dst, registry.host, "app:1"))
    assert sum(1 for s in again if s.endswith(":Already exists")) == 3
    assert not any("Downloading" in s or "Pulling fs layer" in s for s in again)
    again = statuses(push(src, registry.host, "app:1", src.image))
    assert sum(1 for s in again if s.endswith(":Layer already exists")) == 3


def test_cross_repository_mount(registry, src):
    push(src, registry.host, "base/one:1", src.image)
    msgs = statuses(push(src, registry.host, "other/two:1", src.image))
    assert sum(1 for s in msgs if s.endswith(":Mounted from base/one")) == 3


def test_chunked_upload_and_waiting(registry, src, dst, monkeypatch):
    monkeypatch.setattr(push_mod, "MONOLITHIC_MAX", 0)
    monkeypatch.setattr(push_mod, "CHUNK", 1 << 20)
    monkeypatch.setattr(pull_mod, "CONCURRENCY", 1)
    push(src, registry.host, "chunky:1", src.image)
    msgs = statuses(pull(dst, registry.host, "chunky:1"))
    assert sum(1 for s in msgs if s.endswith(":Waiting")) == 2
    assert len(dst.images.added) == 1


def test_unknown_tag_and_repo(registry, src, dst):
    push(src, registry.host, "app:1", src.image)
    with pytest.raises(NotFound, match=r"manifest for .*app:nope not found"):
        pull(dst, registry.host, "app:nope")
    with pytest.raises(NotFound, match="not found"):
        pull(dst, registry.host, "nothing/here:1")
    assert dst.images.added == []


def test_unsupported_layer_media_type(registry, src, dst):
    manifest, _, cfg, layers = src.image
    doc = json.loads(manifest)
    doc["mediaType"] = oi.OCI_MANIFEST
    doc["config"]["mediaType"] = oi.OCI_CONFIG
    doc["layers"][0]["mediaType"] = "application/vnd.example.not-a-layer"
    odd = (oi.canonical(doc), oi.OCI_MANIFEST, cfg, layers)
    push(src, registry.host, "odd:1", odd)
    with pytest.raises(InvalidArgument, match="unsupported layer media type"):
        pull(dst, registry.host, "odd:1")


def _index_for(src, host, platforms) -> None:
    """Push one single-layer image per platform and an OCI index over them."""
    entries = []
    for arch in platforms:
        cfg = oi.canonical({"architecture": arch, "os": "linux", "config": {},
                            "rootfs": {"type": "layers", "diff_ids": []}})
        d = src.content.put(cfg)
        manifest = oi.manifest(oi.descriptor(oi.OCI_CONFIG, d, len(cfg)), [])
        push(src, host, f"multi:{arch}", (manifest, oi.OCI_MANIFEST, d, []))
        entries.append(oi.descriptor(oi.OCI_MANIFEST, dg.of_bytes(manifest), len(manifest),
                                     platform={"os": "linux", "architecture": arch}))
    index = oi.canonical({"schemaVersion": 2, "mediaType": oi.OCI_INDEX, "manifests": entries})
    client = RegistryClient(host)
    Pusher(src, client, reference.parse(f"{host}/multi:latest"), Channel()).put_manifest(
        index, oi.OCI_INDEX)
    return dg.of_bytes(index)


def test_index_picks_platform(registry, src, dst):
    index_digest = _index_for(src, registry.host, ["amd64", "arm64"])
    msgs = pull(dst, registry.host, "multi:latest", platform={"os": "linux",
                                                              "architecture": "arm64"})
    assert msgs[-2]["status"] == f"Digest: {index_digest}"
    assert json.loads(dst.images.added[-1]["config"])["architecture"] == "arm64"
    with pytest.raises(NotFound, match=r"no matching manifest for linux/s390x .*has: "
                                       r"linux/amd64, linux/arm64"):
        pull(dst, registry.host, "multi:latest", platform={"os": "linux",
                                                           "architecture": "s390x"})


def test_corrupted_blob_stores_nothing_and_retry_works(registry, src, dst):
    push(src, registry.host, "app:1", src.image)
    proxy = Proxy(registry.port, "corrupt", times=1)
    try:
        with pytest.raises(Exception, match="verification failed.*digest mismatch"):
            pull(dst, proxy.host, "app:1")
        big = src.image[3][1][0]
        assert not dst.content.exists(big)
        assert os.listdir(dst.content.ingest_dir) == []
        assert dst.images.added == []
        pull(dst, proxy.host, "app:1")          # the proxy corrupts only once
        assert dst.content.verify(big) and len(dst.images.added) == 1
    finally:
        proxy.stop()


def test_cut_connection_resumes(registry, src, dst):
    push(src, registry.host, "app:1", src.image)
    proxy = Proxy(registry.port, "cut", times=1)
    try:
        pull(dst, proxy.host, "app:1")
        assert all(dst.content.verify(d) for d, _, _ in src.image[3])
        assert len(dst.images.added) == 1
    finally:
        proxy.stop()


def test_connection_cut_for_good_fails_cleanly(registry, src, dst, monkeypatch):
    from dockyard.registry import blobs
    monkeypatch.setattr(blobs, "ATTEMPTS", 2)
    push(src, registry.host, "app:1", src.image)
    proxy = Proxy(registry.port, "cut", times=1000)
    try:
        with pytest.raises(Unavailable, match=r"download of sha256:\w+ from 127.0.0.1:\d+ broke"):
            pull(dst, proxy.host, "app:1")
        assert dst.images.added == [] and os.listdir(dst.content.ingest_dir) == []
    finally:
        proxy.stop()
    pull(dst, registry.host, "app:1")
    assert len(dst.images.added) == 1


def test_unreachable_registry_names_the_host(dst):
    with pytest.raises(Unavailable, match="registry-1.docker.io: host name lookup failed"):
        pull(dst, "registry-1.docker.io", "library/node:latest")
    port = __import__("tests.integration.registry.regserver", fromlist=["x"]).free_port()
    with pytest.raises(Unavailable, match=f"127.0.0.1:{port}"):
        pull(dst, f"127.0.0.1:{port}", "x:1")


# -- TLS + basic auth ------------------------------------------------------------------------
def _certs(tmp_path, registry) -> tuple[str]:
    d = tmp_path / "certs.d" / registry.host
    d.mkdir(parents=True)
    (d / "ca.crt").write_bytes(open(registry.ca, "rb").read())
    return (str(tmp_path / "certs.d"),)


def test_tls_basic_auth(tls_registry, src, dst, tmp_path):
    roots = _certs(tmp_path, tls_registry)
    creds = {"username": "alice", "password": "s3cret"}
    kw = dict(insecure=(), certs_roots=roots)
    push(src, tls_registry.host, "secure/app:1", src.image, creds=creds, **kw)
    pull(dst, tls_registry.host, "secure/app:1", creds=creds, **kw)
    assert len(dst.images.added) == 1
    assert RegistryClient(tls_registry.host, creds, **kw).base().startswith("https://")


def test_tls_bad_credentials_and_untrusted_ca(tls_registry, dst, tmp_path):
    roots = _certs(tmp_path, tls_registry)
    with pytest.raises(Unauthorized, match="incorrect username or password"):
        pull(dst, tls_registry.host, "a:1", creds={"username": "alice", "password": "no"},
             insecure=(), certs_roots=roots)
    with pytest.raises(Unauthorized, match="authentication required"):
        pull(dst, tls_registry.host, "a:1", insecure=(), certs_roots=roots)
    with pytest.raises(Unavailable, match="TLS certificate not trusted"):
        pull(dst, tls_registry.host, "a:1", insecure=(), certs_roots=(str(tmp_path / "none"),))


# -- bearer tokens -------------------------------------------------------------------------
def test_bearer_token_auth(token_registry, src, dst):
    host, ts = token_registry.host, token_registry.token_server
    push(src, host, "tok/app:1", src.image, creds={"username": "bob", "password": "hunter2"})
    assert ("bob", ["repository:tok/app:pull,push"]) in ts.issued
    pull(dst, host, "tok/app:1")                      # anonymous tokens may pull
    assert len(dst.images.added) == 1
    with pytest.raises(Unauthorized, match="incorrect username or password"):
        pull(dst, host, "tok/app:1", creds={"username": "bob", "password": "wrong"})
    with pytest.raises(Unauthorized):
        push(src, host, "tok/other:1", src.image)     # anonymous tokens may not push


# -- interop with skopeo ---------------------------------------------------------------------
def test_skopeo_reads_what_we_push(registry, src, tmp_path):
    push(src, registry.host, "interop/ours:1", src.image)
    raw = subprocess.run(["skopeo", "inspect", "--raw", "--tls-verify=false",
                          f"docker://{registry.host}/interop/ours:1"],
                         check=True, capture_output=True).stdout
    assert raw == src.image[0]
    layout = tmp_path / "layout"
    subprocess.run(["skopeo", "copy", "-q", "--src-tls-verify=false",
                    f"docker://{registry.host}/interop/ours:1", f"oci:{layout}:ours"],
                   check=True, capture_output=True)
    index = json.loads((layout / "index.json").read_text())
    m = json.loads((layout / "blobs" / "sha256" /
                    index["manifests"][0]["digest"].split(":")[1]).read_text())
    assert [l["digest"] for l in m["layers"]] == [d for d, _, _ in src.image[3]]
    assert m["config"]["digest"] == src.image[2]


def _oci_layout(path, layers: list[bytes], media_type: str) -> None:
    """Write an OCI image layout with the given (already compressed) layer blobs."""
    blobs = path / "blobs" / "sha256"
    blobs.mkdir(parents=True)

    def put(data: bytes) -> str:
        d = dg.of_bytes(data)
        (blobs / dg.hex_of(d)).write_bytes(data)
        return d
    import zstandard
    raw = [zstandard.ZstdDecompressor().decompressobj().decompress(l)
           if media_type.endswith("zstd") else l for l in layers]
    cfg = oi.canonical({"architecture": "amd64", "os": "linux", "config": {},
                        "rootfs": {"type": "layers", "diff_ids": [dg.of_bytes(r) for r in raw]}})
    manifest = oi.manifest(oi.descriptor(oi.OCI_CONFIG, put(cfg), len(cfg)),
                           [oi.descriptor(media_type, put(l), len(l)) for l in layers])
    md = put(manifest)
    (path / "oci-layout").write_text('{"imageLayoutVersion":"1.0.0"}')
    (path / "index.json").write_text(json.dumps({"schemaVersion": 2, "manifests": [
        {"mediaType": oi.OCI_MANIFEST, "digest": md, "size": len(manifest),
         "annotations": {"org.opencontainers.image.ref.name": "v1"}}]}))


def test_pull_what_skopeo_pushed_including_zstd(registry, dst, tmp_path):
    import zstandard
    zlayer = zstandard.ZstdCompressor().compress(layer_tar({"hello.txt": b"hi\n" * 1000}))
    _oci_layout(tmp_path / "oci", [zlayer], oi.OCI_LAYER_ZSTD)
    subprocess.run(["skopeo", "copy", "-q", "--dest-tls-verify=false", "--preserve-digests",
                    f"oci:{tmp_path / 'oci'}:v1", f"docker://{registry.host}/from/skopeo:v1"],
                   check=True, capture_output=True)
    pull(dst, registry.host, "from/skopeo:v1")
    rec = dst.images.added[0]
    assert rec["layers"][0].media_type == oi.OCI_LAYER_ZSTD
    assert dst.content.read(rec["layers"][0].digest) == zlayer


def test_repeated_layer_blob_is_transferred_once(registry, src, dst):
    image = make_image(src.content, [{"empty": b""}, random_layer(10_000), {"empty": b""}])
    assert image[3][0][0] == image[3][2][0]
    msgs = statuses(push(src, registry.host, "dup:1", image))
    assert sum(1 for s in msgs if s.endswith(":Pushed")) == 2
    pull(dst, registry.host, "dup:1")
    assert [l.digest for l in dst.images.added[0]["layers"]] == [d for d, _, _ in image[3]]


def test_blob_redirects_are_followed(registry, src, dst):
    from tests.integration.registry.regserver import HTTPFront
    push(src, registry.host, "app:1", src.image)
    front = HTTPFront(registry.port, redirect_blobs=True)
    try:
        pull(dst, front.host, "app:1")
    finally:
        front.stop()
    assert sum(1 for m, _, code in front.log if code == 307) == 4   # 3 layers + config
    assert len(dst.images.added) == 1


def test_transient_503s_are_retried(registry, src, dst):
    from tests.integration.registry.regserver import HTTPFront
    front = HTTPFront(registry.port, fail=2)
    try:
        push(src, front.host, "app:1", src.image)
        front.fail = 2
        pull(dst, front.host, "app:1")
    finally:
        front.stop()
    assert sum(1 for _, _, code in front.log if code == 503) == 4
    assert len(dst.images.added) == 1


def test_cut_upload_is_resumed_or_started_over(registry, src, dst, monkeypatch):
    monkeypatch.setattr(push_mod, "MONOLITHIC_MAX", 0)
    monkeypatch.setattr(push_mod, "CHUNK", 1 << 20)
    proxy = Proxy(registry.port, "cut_upload", times=1)
    try:
        push(src, proxy.host, "resumed:1", src.image)
        assert proxy.times == 0
    finally:
        proxy.stop()
    pull(dst, registry.host, "resumed:1")
    assert all(dst.content.verify(d) for d, _, _ in src.image[3])


def test_unsupported_manifest_media_type(registry, dst):
    from tests.integration.registry.regserver import HTTPFront
    schema1 = json.dumps({"schemaVersion": 1, "name": "old", "tag": "1", "fsLayers": []})
    front = HTTPFront(registry.port, override={"/v2/old/manifests/1": (
        "application/vnd.docker.distribution.manifest.v1+prettyjws", schema1.encode())})
    try:
        with pytest.raises(InvalidArgument, match="unsupported media type "
                                                  "'application/vnd.docker.distribution"
                                                  r".manifest.v1\+prettyjws'"):
            pull(dst, front.host, "old:1")
    finally:
        front.stop()
    assert dst.images.added == []
