"""``save``: stream images as a tar, without building it in memory or on disk.

Two layouts:
    docker-archive (default): the classic ``docker save`` layout every dockerd loads —
        ``<config hex>.json``, ``<layer blob hex>/layer.tar``, ``manifest.json``,
        ``repositories``.
    oci-archive: an OCI image layout (``oci-layout``, ``index.json``, ``blobs/sha256/…``)
        plus ``manifest.json`` and ``repositories`` pointing into ``blobs/``, as moby 25+
        writes it, so both docker and OCI tools load it.
Layer blobs are written byte for byte as stored (never re-tarred), so diff IDs, and for
OCI the manifest digests, survive a save/load round trip.
"""
from __future__ import annotations

import json
import tarfile
import time
from dataclasses import dataclass
from typing import Iterator

from dockyard.oci import image as oci
from dockyard.oci import reference

_CHUNK = 1 << 20


@dataclass
class SaveItem:
    """One image to save: its record and the references to put in the archive."""

    image: object  # engine.images.Image
    tags: list[str]
    layers: list[oci.LayerBlob]


def _header(name: str, size: int, mtime: int, dir_: bool = False) -> bytes:
    ti = tarfile.TarInfo(name)
    ti.size, ti.mtime = (0 if dir_ else size), mtime
    ti.mode = 0o755 if dir_ else 0o644
    ti.type = tarfile.DIRTYPE if dir_ else tarfile.REGTYPE
    return ti.tobuf(tarfile.PAX_FORMAT, "utf-8", "surrogateescape")


def _pad(size: int) -> bytes:
    rest = size % tarfile.BLOCKSIZE
    return tarfile.NUL * (tarfile.BLOCKSIZE - rest) if rest else b""


class TarStream:
    """Yields tar bytes entry by entry; each name is written once."""

    def __init__(self, content):
        self.content = content
        self.seen: set[str] = set()
        self.mtime = int(time.time())

    def dir(self, name: str) -> Iterator[bytes]:
        if name not in self.seen:
            self.seen.add(name)
            yield _header(name, 0, self.mtime, dir_=True)

    def bytes(self, name: str, data: bytes) -> Iterator[bytes]:
        if name not in self.seen:
            self.seen.add(name)
            yield _header(name, len(data), self.mtime) + data + _pad(len(data))

    def blob(self, name: str, digest: str) -> Iterator[bytes]:
        if name in self.seen:
            return
        self.seen.add(name)
        size = self.content.size(digest)
        yield _header(name, size, self.mtime)
        with self.content.open(digest) as f:
            left = size
            while left > 0:
                data = f.read(min(_CHUNK, left))
                if not data:
                    raise OSError(f"blob {digest} shrank while being saved")
                left -= len(data)
                yield data
        yield _pad(size)

    def end(self) -> Iterator[bytes]:
        yield tarfile.NUL * (tarfile.BLOCKSIZE * 2)


def _repositories(items: list[SaveItem], top_name) -> bytes:
    repos: dict[str, dict[str, str]] = {}
    for it in items:
        for t in it.tags:
            ref = reference.parse(t)
            if it.layers and ref.tag:
                repos.setdefault(ref.familiar_name, {})[ref.tag] = top_name(it)
    return json.dumps(repos).encode()


def docker_archive(items: list[SaveItem], content) -> Iterator[bytes]:
    """The classic docker-archive layout (see the module docstring)."""
    ts = TarStream(content)
    manifest = []
    for it in items:
        hexid = it.image.id.split(":", 1)[1]
        yield from ts.bytes(f"{hexid}.json", it.image.raw_config)
        paths = []
        for blob in it.layers:
            layer_dir = blob.digest.split(":", 1)[1]
            yield from ts.dir(layer_dir + "/")
            yield from ts.bytes(f"{layer_dir}/VERSION", b"1.0")
            yield from ts.blob(f"{layer_dir}/layer.tar", blob.digest)
            paths.append(f"{layer_dir}/layer.tar")
        manifest.append({"Config": f"{hexid}.json",
                         "RepoTags": [reference.parse(t).familiar for t in it.tags] or None,
                         "Layers": paths})
    yield from ts.bytes("manifest.json", json.dumps(manifest).encode())
    yield from ts.bytes("repositories",
                        _repositories(items, lambda it: it.layers[-1].digest.split(":")[1]))
    yield from ts.end()


def _oci_manifest(it: SaveItem, content) -> tuple[bytes, str]:
    """The image's stored manifest if it has one, else an OCI manifest for its blobs."""
    stored = getattr(it.image, "manifest", None)
    if stored and content.exists(stored):
        data = content.read(stored)
        return data, json.loads(data).get("mediaType") or oci.OCI_MANIFEST
    layers = [oci.descriptor(oci.layer_media_type(oci.compression_of(b.media_type)),
                             b.digest, b.size) for b in it.layers]
    config = oci.descriptor(oci.OCI_CONFIG, it.image.id, len(it.image.raw_config))
    return oci.manifest(config, layers, oci=True), oci.OCI_MANIFEST


def oci_archive(items: list[SaveItem], content) -> Iterator[bytes]:
    """An OCI image layout plus docker's manifest.json (see the module docstring)."""
    from dockyard.oci import digest as dg
    ts = TarStream(content)
    index, manifest = [], []
    yield from ts.dir("blobs/")
    yield from ts.dir("blobs/sha256/")
    for it in items:
        for blob in it.layers:
            yield from ts.blob(f"blobs/sha256/{dg.hex_of(blob.digest)}", blob.digest)
        yield from ts.bytes(f"blobs/sha256/{dg.hex_of(it.image.id)}", it.image.raw_config)
        data, media = _oci_manifest(it, content)
        mdigest = dg.of_bytes(data)
        yield from ts.bytes(f"blobs/sha256/{dg.hex_of(mdigest)}", data)
        for t in it.tags or [None]:
            ann = {}
            if t:
                ref = reference.parse(t)
                ann = {"io.containerd.image.name": str(ref),
                       "org.opencontainers.image.ref.name": ref.tag or ""}
            index.append(oci.descriptor(media, mdigest, len(data),
                                        **({"annotations": ann} if ann else {})))
        manifest.append({"Config": f"blobs/sha256/{dg.hex_of(it.image.id)}",
                         "RepoTags": [reference.parse(t).familiar for t in it.tags] or None,
                         "Layers": [f"blobs/sha256/{dg.hex_of(b.digest)}" for b in it.layers]})
    yield from ts.bytes("oci-layout", b'{"imageLayoutVersion":"1.0.0"}')
    yield from ts.bytes("index.json", oci.canonical(
        {"schemaVersion": 2, "mediaType": oci.OCI_INDEX, "manifests": index}))
    yield from ts.bytes("manifest.json", json.dumps(manifest).encode())
    yield from ts.bytes("repositories",
                        _repositories(items, lambda it: dg.hex_of(it.layers[-1].digest)))
    yield from ts.end()
