"""Part of ImageService: ``load`` (docker-archive / OCI layout) and ``save``."""
from __future__ import annotations

from typing import Iterator

from dockyard.errors import InvalidArgument, NotFound
from dockyard.image import archive, export
from dockyard.oci import image as oci
from dockyard.oci import reference

SAVE_FORMATS = {"docker-archive": export.docker_archive, "docker": export.docker_archive,
                "oci-archive": export.oci_archive, "oci": export.oci_archive}


class TransferMixin:
    """load_archive, save."""

    def load_archive(self, stream, source: str = "stdin") -> list[str]:
        """Load every image of a docker-archive or OCI layout tar; docker's messages.

        All or nothing: any bad entry, digest mismatch or truncation rolls back the blobs,
        snapshots and records this load made, and raises InvalidArgument naming the file.
        """
        messages: list[str] = []
        with self.lease() as lease:
            arc = archive.read_archive(stream, self.content, lease, source)
            items = archive.load_items(arc, self.content, lease)
            if not items:
                raise InvalidArgument(f"{source}: the archive holds no image")
            for item in items:
                image_id = self.add_image(item.config, item.layers, manifest=item.manifest)
                with self.meta.tx() as db:
                    for ref in item.tags:
                        self._tag(db, image_id, ref)
                messages += [f"Loaded image: {reference.parse(t).familiar}" for t in item.tags] \
                    or [f"Loaded image ID: {image_id}"]
        return messages

    def _save_layers(self, img) -> list[oci.LayerBlob]:
        """The blobs to write: the stored manifest's, else the first blob of each layer."""
        if img.manifest and self.content.exists(img.manifest):
            doc = oci.parse_json(self.content.read(img.manifest), f"manifest {img.manifest}")
            descs = doc.get("layers") or []
            if all(self.content.exists(d["digest"]) for d in descs):
                return [oci.LayerBlob(d["digest"], d["mediaType"], int(d["size"])) for d in descs]
        out = []
        for diff_id in img.diff_ids:
            blobs = self._blobs_of(diff_id)
            if not blobs:
                raise NotFound(f"image {img.id}: layer {diff_id} has no stored blob")
            digest, media, size = blobs[0]
            out.append(oci.LayerBlob(digest, media, size))
        return out

    def _save_items(self, names: list[str]) -> list[export.SaveItem]:
        by_id: dict[str, export.SaveItem] = {}
        for name in names:
            image_id = self.resolve(name)
            item = by_id.get(image_id)
            if item is None:
                img = self.load(image_id)
                item = by_id[image_id] = export.SaveItem(img, [], self._save_layers(img))
            ref = self._by_reference(name) == image_id and reference.parse(name)
            if ref and not ref.digest and str(ref) not in item.tags:
                item.tags.append(str(ref))
        return list(by_id.values())

    def save(self, names: list[str], fmt: str = "docker-archive") -> Iterator[bytes]:
        """A tar of the named images (checked before the first byte); chunks of bytes."""
        writer = SAVE_FORMATS.get(fmt or "docker-archive")
        if writer is None:
            raise InvalidArgument(f"unknown save format {fmt!r} (docker-archive or oci-archive)")
        if not names:
            raise InvalidArgument("save: no image names given")
        return writer(self._save_items(names), self.content)
