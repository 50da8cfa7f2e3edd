"""Hand-made images for registry tests: layers, configs and manifests in a content store."""
from __future__ import annotations

import gzip
import io
import os
import tarfile

from dockyard.oci import digest as dg
from dockyard.oci import image as oi
from dockyard.store.content import ContentStore


def layer_tar(files: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tf:
        for name, data in files.items():
            ti = tarfile.TarInfo(name)
            ti.size, ti.mode, ti.mtime = len(data), 0o644, 1700000000
            tf.addfile(ti, io.BytesIO(data))
    return buf.getvalue()


def make_image(content: ContentStore, layers: list[dict[str, bytes]], compress: str = "gzip"):
    """Store layers + config in ``content``; return what layer_blobs_for_push returns."""
    descs, diff_ids = [], []
    for files in layers:
        raw = layer_tar(files)
        diff_ids.append(dg.of_bytes(raw))
        blob = gzip.compress(raw, 1, mtime=0) if compress == "gzip" else raw
        content.put(blob)
        descs.append((dg.of_bytes(blob), len(blob), oi.layer_media_type(compress, docker=True)))
    config = oi.canonical({"architecture": "amd64", "os": "linux", "config": {},
                           "rootfs": {"type": "layers", "diff_ids": diff_ids}})
    cfg_digest = content.put(config)
    manifest = oi.manifest(oi.descriptor(oi.DOCKER_CONFIG, cfg_digest, len(config)),
                           [oi.descriptor(mt, d, s) for d, s, mt in descs], oci=False)
    return manifest, oi.DOCKER_MANIFEST, cfg_digest, descs


def random_layer(size: int) -> dict[str, bytes]:
    return {"data.bin": os.urandom(size)}
