"""Making images from a container's or build step's changes (``commit``, ``build``)."""
from __future__ import annotations

import copy

from dockyard.image import unpack
from dockyard.image.diff import write_diff
from dockyard.image.importer import go_arch
from dockyard.oci import digest as dg
from dockyard.oci import image as oci
from dockyard.oci import reference


class CreateMixin:
    """Part of ImageService: create_from_snapshot, create_config_only."""

    def _child_config(self, parent_image_id: str | None, config_changes: dict,
                      history: dict) -> dict:
        """The parent's config with ``config_changes`` applied and ``history`` appended."""
        if parent_image_id:
            doc = copy.deepcopy(self.load(parent_image_id).config)
        else:
            doc = {"architecture": go_arch(), "os": "linux", "config": {},
                   "rootfs": {"type": "layers", "diff_ids": []}, "history": []}
        created = history.get("created") or oci.now_rfc3339()
        doc["created"] = created
        cfg = dict(doc.get("config") or {})
        cfg.update(config_changes or {})
        doc["config"] = cfg
        doc.setdefault("rootfs", {"type": "layers", "diff_ids": []})
        doc["history"] = list(doc.get("history") or []) + [{**history, "created": created}]
        return doc

    def _finish(self, doc: dict, layers: list[unpack.Layer], parent_image_id: str | None,
                ref: str | None, lease) -> str:
        config = oci.canonical(doc)
        image_id = dg.of_bytes(config)
        if not self.content.exists(image_id):
            lease.add_blob(image_id)
            self.content.put(config)
        with self.meta.tx() as db:
            self._record(db, image_id, layers, parent_image_id, None)
            if ref:
                self._tag(db, image_id, str(reference.parse(ref)))
        return image_id

    def _parent_layers(self, parent_image_id: str | None) -> list[unpack.Layer]:
        if not parent_image_id:
            return []
        rows = self.meta.query(
            "SELECT l.chain_id, l.diff_id, l.parent, l.size FROM image_layers il JOIN layers l "
            "ON l.chain_id = il.chain_id WHERE il.image_id=? ORDER BY il.pos", (parent_image_id,))
        return [unpack.Layer(r[1], r[0], r[2], r[3]) for r in rows]

    def create_from_snapshot(self, parent_image_id: str | None, upper_dir: str,
                             config_changes: dict, history: dict, ref: str | None = None,
                             snapshot_key: str | None = None,
                             exclude: frozenset[str] = frozenset()) -> str:
        """Commit ``upper_dir`` (overlay format) as a new layer on the parent image.

        The diff is stored as an uncompressed layer blob; the new config gets its diff ID
        and ``history``. Returns the image ID.

        With ``snapshot_key`` (the active snapshot whose upper dir ``upper_dir`` is, over
        the parent image's top layer) that snapshot itself becomes the committed layer: a
        rename, instead of unpacking the blob again. The caller gives the snapshot up: it
        is gone afterwards, unless an identical layer already existed (then the caller
        still removes it). Without a key (``docker commit`` of a live container) the
        blob is unpacked into a new snapshot and ``upper_dir`` is left alone; ``exclude``
        (paths relative to it) are left out of the layer.
        """
        if exclude and snapshot_key is not None:
            raise ValueError("exclude needs a commit that unpacks its blob (no snapshot_key)")
        # a build step (snapshot_key) can be re-run: its lease is not fsync'd (see Lease)
        with self.lease(sync=snapshot_key is None) as lease:
            parents = self._parent_layers(parent_image_id)
            parent_chain = parents[-1].chain_id if parents else None
            with self.content.writer() as w:
                # writeback starts as it goes: the final fsync then waits for the tail only
                size = write_diff(upper_dir, unpack._BlobSink(w), exclude)
                digest = unpack._commit_blob(self.content, w, lease)
            blob = oci.LayerBlob(digest, oci.OCI_LAYER, self.content.size(digest))
            layer = self._layer_for(blob, parent_chain, size, snapshot_key, lease)
            doc = self._child_config(parent_image_id, config_changes, history)
            doc["rootfs"]["diff_ids"] = list(doc["rootfs"].get("diff_ids") or []) + [digest]
            return self._finish(doc, parents + [layer], parent_image_id, ref, lease)

    def _layer_for(self, blob: oci.LayerBlob, parent_chain: str | None, size: int,
                   snapshot_key: str | None, lease) -> unpack.Layer:
        """The committed snapshot of a new uncompressed layer: reused when one with the
        same chain ID exists, else the active snapshot renamed, else the blob unpacked."""
        chain = unpack.chain_id(parent_chain, blob.digest)
        row = self.meta.query_one("SELECT size FROM layers WHERE chain_id=?", (chain,))
        if row is not None and self.snapshots.exists(chain):
            return unpack.Layer(blob.digest, chain, parent_chain, row[0], blob)
        if snapshot_key is None:
            return unpack.ingest_blob(self.content, self.snapshots, blob, parent_chain,
                                      blob.digest, lease)
        if not self.snapshots.exists(chain):
            # listed first: a crash between the rename and the DB rows rolls it back
            lease.add_snapshot(chain)
            self.snapshots.commit(chain, snapshot_key)
        return unpack.Layer(blob.digest, chain, parent_chain, size, blob)

    def create_config_only(self, parent_image_id: str | None, config_changes: dict,
                           history: dict, ref: str | None = None) -> str:
        """An image with the parent's layers and a changed config (ENV, CMD, ...)."""
        with self.lease(sync=False) as lease:  # build steps are re-runnable; see Lease
            doc = self._child_config(parent_image_id, config_changes,
                                     {**history, "empty_layer": True})
            return self._finish(doc, self._parent_layers(parent_image_id), parent_image_id,
                                ref, lease)
