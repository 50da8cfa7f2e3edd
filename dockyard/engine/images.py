"""ImageService: the local image store (``engine.images``).

Records (SQLite, table names prefixed ``image``/``layer``):
    images        id (= config digest), parent (local parent image), manifest digest, added
    image_refs    normalised tag reference → image id (``docker.io/library/x:latest``)
    image_digests repo digest references (``docker.io/library/x@sha256:…``) of an image
    image_layers  image id, position → layer chain ID
    layers        chain ID → diff ID, parent chain, content size (one committed snapshot each)
    layer_blobs   diff ID ↔ blob digest(s) as received (tar, tar+gzip, tar+zstd), so save
                  and push reproduce the exact bytes; a layer is never re-tarred

Blobs live in ``engine.content``, unpacked layers in ``engine.snapshots`` (named by chain
ID). Every operation that makes blobs/snapshots runs under a lease (image/lease.py) and
writes its rows in one transaction at the end: all or nothing, also across a crash.
"""
from __future__ import annotations

import contextlib
import os
import threading
import time
from dataclasses import dataclass, field
from typing import Callable, Iterator

from dockyard.errors import DockyardError, InvalidArgument, NotFound
from dockyard.image import lease as leases
from dockyard.image import unpack
from dockyard.oci import digest as dg
from dockyard.oci import image as oci
from dockyard.oci import reference

SCHEMA = """
CREATE TABLE IF NOT EXISTS images (
  id TEXT PRIMARY KEY, parent TEXT, manifest TEXT, added REAL NOT NULL);
CREATE TABLE IF NOT EXISTS image_refs (
  ref TEXT PRIMARY KEY, image_id TEXT NOT NULL REFERENCES images(id), tagged REAL);
CREATE TABLE IF NOT EXISTS image_digests (
  ref TEXT NOT NULL, image_id TEXT NOT NULL REFERENCES images(id), PRIMARY KEY (ref, image_id));
CREATE TABLE IF NOT EXISTS image_layers (
  image_id TEXT NOT NULL REFERENCES images(id), pos INTEGER NOT NULL, chain_id TEXT NOT NULL,
  PRIMARY KEY (image_id, pos));
CREATE INDEX IF NOT EXISTS image_layers_chain ON image_layers(chain_id);
CREATE TABLE IF NOT EXISTS layers (
  chain_id TEXT PRIMARY KEY, diff_id TEXT NOT NULL, parent TEXT, size INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS layer_blobs (
  diff_id TEXT NOT NULL, digest TEXT NOT NULL, media_type TEXT NOT NULL, size INTEGER NOT NULL,
  PRIMARY KEY (diff_id, digest));
"""


@dataclass
class Image:
    """One stored image; ``config`` is the parsed config, ``raw_config`` its exact bytes."""

    id: str
    raw_config: bytes
    config: dict
    parent: str | None
    manifest: str | None
    added: float
    refs: list[str] = field(default_factory=list)
    digests: list[str] = field(default_factory=list)
    chain_ids: list[str] = field(default_factory=list)

    @property
    def diff_ids(self) -> list[str]:
        return oci.diff_ids(self.config)

    @property
    def created(self) -> float:
        return oci.parse_rfc3339(self.config.get("created"))


class ImageCore:
    """Images, tags and layers of one engine; see the module docstring."""

    def __init__(self, engine):
        self.engine = engine
        self.meta = engine.meta
        self.meta.ensure_schema("images", SCHEMA)
        self.lock = threading.RLock()
        self.lease_dir = os.path.join(engine.data_root, "images", "leases")
        # set by the container service: image id → ids of containers that use it
        self.in_use_check: Callable[[str], list[str]] = lambda image_id: []

    @property
    def content(self):
        return self.engine.content

    @property
    def snapshots(self):
        return self.engine.snapshots

    # -- lookup --------------------------------------------------------------------------
    def resolve(self, name: str) -> str:
        """Image ID for a reference, full or short ID, or ``name@digest``."""
        if not name:
            raise InvalidArgument("image name is empty")
        full = name if name.startswith("sha256:") else "sha256:" + name
        if len(full) == 71 and self.meta.query_one("SELECT 1 FROM images WHERE id=?", (full,)):
            return full
        found = self._by_reference(name)
        if found:
            return found
        return self._by_prefix(name)

    def _by_reference(self, name: str) -> str | None:
        try:
            ref = reference.parse(name)
        except InvalidArgument:
            return None
        if ref.digest:
            row = self.meta.query_one("SELECT image_id FROM image_digests WHERE ref=?",
                                      (f"{ref.name}@{ref.digest}",))
            if row is None and self.meta.query_one("SELECT 1 FROM images WHERE id=?", (ref.digest,)):
                return ref.digest
        else:
            row = self.meta.query_one("SELECT image_id FROM image_refs WHERE ref=?", (str(ref),))
        return row[0] if row else None

    def _by_prefix(self, name: str) -> str:
        hexpart = name.split(":", 1)[1] if name.startswith("sha256:") else name
        if hexpart and all(c in "0123456789abcdef" for c in hexpart):
            rows = self.meta.query("SELECT id FROM images WHERE id LIKE ?",
                                   (f"sha256:{hexpart}%",))
            if len(rows) == 1:
                return rows[0][0]
            if len(rows) > 1:
                raise InvalidArgument(f"short image ID {name!r} is ambiguous")
        raise NotFound(f"No such image: {name}")

    def get(self, name_or_id: str) -> Image:
        """The image named by a reference, full/short ID or digest; NotFound otherwise."""
        return self.load(self.resolve(name_or_id))

    def load(self, image_id: str) -> Image:
        row = self.meta.query_one("SELECT * FROM images WHERE id=?", (image_id,))
        if row is None:
            raise NotFound(f"No such image: {image_id}")
        raw = self.content.read(image_id)
        img = Image(image_id, raw, oci.parse_json(raw, f"config of {image_id}"), row["parent"],
                    row["manifest"], row["added"])
        img.refs = [r[0] for r in self.meta.query(
            "SELECT ref FROM image_refs WHERE image_id=? ORDER BY tagged, ref", (image_id,))]
        img.digests = [r[0] for r in self.meta.query(
            "SELECT ref FROM image_digests WHERE image_id=? ORDER BY ref", (image_id,))]
        img.chain_ids = self.rootfs_layers(image_id)
        return img

    def ids(self) -> list[str]:
        return [r[0] for r in self.meta.query("SELECT id FROM images ORDER BY added")]

    def rootfs_layers(self, image_id: str) -> list[str]:
        """Chain IDs of the image's layers, bottom first (committed snapshot names)."""
        return [r[0] for r in self.meta.query(
            "SELECT chain_id FROM image_layers WHERE image_id=? ORDER BY pos", (image_id,))]

    def size(self, image_id: str) -> int:
        row = self.meta.query_one(
            "SELECT COALESCE(SUM(l.size), 0) FROM image_layers il JOIN layers l "
            "ON l.chain_id = il.chain_id WHERE il.image_id=?", (image_id,))
        return int(row[0])

    # -- leases ----------------------------------------------------------------------------
    @contextlib.contextmanager
    def lease(self, sync: bool = True) -> Iterator[leases.Lease]:
        """An undo log: on error, blobs/snapshots the DB does not reference are removed.
        ``sync=False``: lines are not fsync'd (see image/lease.py; build steps)."""
        with self.lock:
            lease = leases.Lease(self.lease_dir, sync)
            try:
                yield lease
            except BaseException:
                leases.rollback(lease.blobs, lease.snapshots, self._drop_blob, self._drop_snapshot)
                lease.done()
                raise
            lease.done()

    def _drop_blob(self, digest: str) -> None:
        if not self.meta.query_one(
                "SELECT 1 FROM layer_blobs WHERE digest=? UNION SELECT 1 FROM images "
                "WHERE id=? OR manifest=?", (digest, digest, digest)):
            self.content.delete(digest)

    def _drop_snapshot(self, key: str) -> None:
        if key.startswith("sha256:") and self.meta.query_one(
                "SELECT 1 FROM layers WHERE chain_id=?", (key,)):
            return
        try:
            self.snapshots.remove(key)
        except Exception:  # noqa: BLE001 - a snapshot with children stays; recover() retries
            pass

    def recover(self) -> None:
        """Start-up: roll back operations a crash interrupted, drop half-made snapshots."""
        if os.path.isdir(self.lease_dir):
            for name in os.listdir(self.lease_dir):
                path = os.path.join(self.lease_dir, name)
                blobs, snaps = leases.read(path)
                leases.rollback(blobs, snaps, self._drop_blob, self._drop_snapshot)
                os.unlink(path)
        self.snapshots.recover()
        self.content.clean_ingest()  # half-written blobs of a crash (no writer runs yet)

    # -- adding images ---------------------------------------------------------------------
    def add_image(self, config: bytes, layers: list[oci.LayerBlob], ref: str | None = None,
                  repo_digest: str | None = None, manifest: str | None = None,
                  parent: str | None = None) -> str:
        """Record an image whose layer blobs are in the content store; unpack what is missing.

        Returns the image ID (the config digest). Atomic: on failure nothing is left.
        """
        image_id = dg.of_bytes(config)
        doc = oci.parse_json(config, f"image config {image_id}")
        ids = oci.diff_ids(doc, f"image config {image_id}")
        if len(ids) != len(layers):
            raise InvalidArgument(f"image {image_id}: config lists {len(ids)} layers, "
                                  f"manifest has {len(layers)}")
        with self.lease() as lease:
            if not self.content.exists(image_id):
                lease.add_blob(image_id)
                self.content.put(config)
            done = self._unpack_layers(layers, ids, lease)
            with self.meta.tx() as db:
                self._record(db, image_id, done, parent, manifest)
                if repo_digest:
                    self._add_digest(db, image_id, repo_digest)
                if ref:
                    self._tag(db, image_id, ref)
        return image_id

    def _unpack_layers(self, blobs: list[oci.LayerBlob], ids: list[str],
                       lease: leases.Lease) -> list[unpack.Layer]:
        out: list[unpack.Layer] = []
        parent = None
        for blob, diff_id in zip(blobs, ids):
            chain = unpack.chain_id(parent, diff_id)
            row = self.meta.query_one("SELECT size FROM layers WHERE chain_id=?", (chain,))
            if row is not None and self.snapshots.exists(chain):
                out.append(unpack.Layer(diff_id, chain, parent, row[0], blob))
            else:
                out.append(unpack.ingest_blob(self.content, self.snapshots, blob, parent,
                                              diff_id, lease))
            parent = chain
        return out

    def _record(self, db, image_id: str, layers: list[unpack.Layer], parent: str | None,
                manifest: str | None) -> None:
        for layer in layers:
            db.execute("INSERT OR IGNORE INTO layers VALUES (?, ?, ?, ?)",
                       (layer.chain_id, layer.diff_id, layer.parent, layer.size))
            if layer.blob:
                db.execute("INSERT OR IGNORE INTO layer_blobs VALUES (?, ?, ?, ?)",
                           (layer.diff_id, layer.blob.digest, layer.blob.media_type,
                            layer.blob.size))
        exists = db.execute("SELECT 1 FROM images WHERE id=?", (image_id,)).fetchone()
        if exists:
            if manifest:
                db.execute("UPDATE images SET manifest=COALESCE(manifest, ?) WHERE id=?",
                           (manifest, image_id))
            return
        db.execute("INSERT INTO images VALUES (?, ?, ?, ?)",
                   (image_id, parent, manifest, time.time()))
        for pos, layer in enumerate(layers):
            db.execute("INSERT INTO image_layers VALUES (?, ?, ?)",
                       (image_id, pos, layer.chain_id))

    def unpack_stream(self, fileobj, media_type: str, parent_chain: str | None) -> tuple[str, str]:
        """Apply a layer while reading it (a download in progress); return (diff_id, chain_id).

        The blob itself is the caller's to store; the snapshot and its ``layers`` row are
        kept even if the pull fails later (they are correct by digest; a retry reuses them).
        """
        from dockyard.image import streams
        comp = oci.compression_of(media_type)
        hashed = streams.HashReader(streams.decompressed(fileobj, comp))
        with self.lease() as lease:
            key, size = unpack._extract(self.snapshots, hashed, parent_chain, lease,
                                        f"layer ({media_type})")
            hashed.drain()
            chain = unpack._commit(self.snapshots, key, parent_chain, hashed.digest, lease)
            with self.meta.tx() as db:
                db.execute("INSERT OR IGNORE INTO layers VALUES (?, ?, ?, ?)",
                           (chain, hashed.digest, parent_chain, size))
        return hashed.digest, chain

    def import_image(self, stream, ref: str | None = None, changes: list[str] | None = None,
                     message: str = "", source: str = "-") -> str:
        """``docker import``: a rootfs tar (plain or compressed) becomes a one-layer image."""
        from dockyard.image import importer
        if ref:
            ref = str(reference.parse(ref))
        with self.lease() as lease:
            layer = unpack.ingest_stream(self.content, self.snapshots, stream, None, lease,
                                         f"import from {source}")
            config = importer.import_config(layer.diff_id, changes or [], message, source)
            image_id = dg.of_bytes(config)
            if not self.content.exists(image_id):
                lease.add_blob(image_id)
                self.content.put(config)
            with self.meta.tx() as db:
                self._record(db, image_id, [layer], None, None)
                if ref:
                    self._tag(db, image_id, ref)
        return image_id

    def import_url(self, url: str, ref: str | None = None, changes: list[str] | None = None,
                   message: str = "", timeout: float = 60) -> str:
        """``docker import URL``: fetch the tarball over HTTP(S) and import it as it arrives."""
        import urllib.error
        import urllib.request
        if not url.startswith(("http://", "https://")):
            raise InvalidArgument(f"import from {url}: only http:// and https:// URLs can be "
                                  "imported (send other tarballs as the body, fromSrc=-)")
        try:
            resp = urllib.request.urlopen(url, timeout=timeout)
        except urllib.error.HTTPError as e:
            raise DockyardError(f"import from {url}: the server answered {e.code} {e.reason}") \
                from None
        except (urllib.error.URLError, OSError, ValueError) as e:
            raise DockyardError(f"import from {url}: cannot fetch the URL: "
                                f"{getattr(e, 'reason', e)}") from None
        with resp:
            return self.import_image(resp, ref, changes, message, url)


from dockyard.image.tags import TagsMixin  # noqa: E402  (mixins need ImageCore's helpers)
from dockyard.image.commit import CreateMixin  # noqa: E402
from dockyard.image.views import QueryMixin  # noqa: E402
from dockyard.image.push import PushMixin  # noqa: E402
from dockyard.image.transfer import TransferMixin  # noqa: E402


class ImageService(TagsMixin, CreateMixin, QueryMixin, PushMixin, TransferMixin, ImageCore):
    """``engine.images``: lookup and adding (ImageCore), tags and removal (TagsMixin),
    commit/build images (CreateMixin), docker's list/inspect/history/df (QueryMixin),
    push preparation (PushMixin), load/save (TransferMixin)."""
