"""Preparing an image for push: the manifest and compressed layer blobs.

A layer is gzip-compressed (isal) the first time it is pushed; the diff ID → gzip blob
mapping is remembered, so later pushes send the very same bytes and digests. An image
that arrived with a manifest (pull, OCI load) is pushed with that manifest unchanged.
"""
from __future__ import annotations

from dockyard.errors import NotFound
from dockyard.image import streams
from dockyard.oci import image as oci


class PushMixin:
    """Part of ImageService: layer_blobs_for_push."""

    def _blobs_of(self, diff_id: str) -> list[tuple[str, str, int]]:
        return [(r[0], r[1], r[2]) for r in self.meta.query(
            "SELECT digest, media_type, size FROM layer_blobs WHERE diff_id=? ORDER BY rowid",
            (diff_id,)) if self.content.exists(r[0])]

    def _gzip_blob(self, diff_id: str) -> tuple[str, str, int]:
        """The layer as a gzip blob: an existing one, or compress one now and remember it."""
        blobs = self._blobs_of(diff_id)
        for digest, media, size in blobs:
            if oci.compression_of(media) == "gzip":
                return digest, media, size
        if not blobs:
            raise NotFound(f"layer {diff_id}: no blob stored for it (cannot push)")
        from isal import igzip
        src_digest, src_media, _ = blobs[0]
        with self.lease() as lease, self.content.open(src_digest) as src:
            plain = streams.decompressed(src, oci.compression_of(src_media))
            with self.content.writer() as w:
                with igzip.IGzipFile(fileobj=w, mode="wb", mtime=0) as gz:
                    while data := plain.read(1 << 20):
                        gz.write(data)
                digest = w.current_digest
                if not self.content.exists(digest):
                    lease.add_blob(digest)
                    w.commit()
            size = self.content.size(digest)
            with self.meta.tx() as db:
                db.execute("INSERT OR IGNORE INTO layer_blobs VALUES (?, ?, ?, ?)",
                           (diff_id, digest, oci.DOCKER_LAYER_GZIP, size))
        return digest, oci.DOCKER_LAYER_GZIP, size

    def _stored_manifest(self, img) -> tuple[bytes, str] | None:
        if not img.manifest or not self.content.exists(img.manifest):
            return None
        data = self.content.read(img.manifest)
        doc = oci.parse_json(data, f"manifest {img.manifest}")
        if all(self.content.exists(l["digest"]) for l in doc.get("layers") or []):
            return data, doc.get("mediaType") or oci.OCI_MANIFEST
        return None

    def layer_blobs_for_push(self, image_id: str):
        """(manifest bytes, its media type, config digest, [(digest, size, media type)])."""
        img = self.load(image_id)
        stored = self._stored_manifest(img)
        if stored:
            doc = oci.parse_json(stored[0], "manifest")
            layers = [(l["digest"], int(l["size"]), l["mediaType"]) for l in doc["layers"]]
            return stored[0], stored[1], img.id, layers
        layers = []
        for diff_id in img.diff_ids:
            digest, media, size = self._gzip_blob(diff_id)
            layers.append((digest, size, oci.DOCKER_LAYER_GZIP if "docker" in media else media))
        config = oci.descriptor(oci.DOCKER_CONFIG, img.id, len(img.raw_config))
        descs = [oci.descriptor(m, d, s) for d, s, m in layers]
        return oci.manifest(config, descs, oci=False), oci.DOCKER_MANIFEST, img.id, layers
