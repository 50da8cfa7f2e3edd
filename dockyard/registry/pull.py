"""Pulling an image: manifest → config → layers (concurrent) → unpack → image record.

Layers download concurrently (at most ``CONCURRENCY`` at a time) into the content
store; the unpacker walks them bottom-up and extracts each *while it downloads*
(:meth:`BlobDownload.follow`), so a single big layer costs about max(download,
extract), not the sum. A blob already in the store is not downloaded again.

Nothing becomes an image until every blob is verified and every layer unpacked:
``images.add_image`` records the image atomically at the very end. Blobs and layer
snapshots that did complete are kept (they are correct by digest), so a retry only
fetches what is missing.
"""
from __future__ import annotations

import io
import threading
from concurrent.futures import ThreadPoolExecutor

from dockyard.errors import InvalidArgument
from dockyard.oci import digest as dg
from dockyard.oci import image as oi
from dockyard.oci.reference import Reference
from dockyard.registry import manifests
from dockyard.registry.blobs import BlobDownload
from dockyard.registry.pipe import ThreadedDecompress
from dockyard.registry.client import RegistryClient
from dockyard.registry.progress import Channel
from dockyard.registry.push import record_sources

CONCURRENCY = 3
THREADED_DECOMPRESS = True   # gunzip/zstd on a thread of their own (see pipe.py)
_chain_locks: dict[str, threading.Lock] = {}
_chain_locks_guard = threading.Lock()


def _chain_lock(chain_id: str) -> threading.Lock:
    with _chain_locks_guard:
        return _chain_locks.setdefault(chain_id, threading.Lock())


class Puller:
    """One pull of one reference; reports docker's progress messages into ``ch``."""

    def __init__(self, engine, client: RegistryClient, ref: Reference, ch: Channel,
                 platform: dict | None = None):
        self.engine, self.client, self.ref, self.ch = engine, client, ref, ch
        self.platform = platform
        self.scope = f"repository:{ref.path}:pull"
        self.doc: dict | None = None

    def resolve(self) -> None:
        """Fetch and check the manifest and config (before any progress is streamed,
        so an unknown tag or refused login can still become an HTTP error status)."""
        ref = self.ref
        self.data, self.doc, _, self.repo_digest = manifests.resolve(
            self.client, ref.path, ref.digest or ref.tag, self.scope, ref.familiar, self.platform)
        self.config = self._config(self.doc["config"])
        self.ids = oi.diff_ids(oi.parse_json(self.config, f"config of {ref.familiar}"))
        if len(self.ids) != len(self.doc.get("layers") or []):
            raise InvalidArgument(f"{ref.familiar}: manifest has {len(self.doc['layers'])} "
                                  f"layers but the config lists {len(self.ids)} diff ids")
        self._check_platform(self.config)

    def run(self) -> str:
        """Pull; return the image ID. Raises on any failure (no image is recorded)."""
        ref = self.ref
        if self.doc is None:
            self.resolve()
        self.ch.status(f"Pulling from {ref.path}", ref.tag or ref.digest)
        data, doc, repo_digest, config = self.data, self.doc, self.repo_digest, self.config
        layers, ids = doc.get("layers") or [], self.ids
        image_id = dg.of_bytes(config)
        if self._up_to_date(image_id, layers):
            self._done(repo_digest, f"Image is up to date for {ref.familiar}")
            return image_id
        tracker = self._tracker()
        partial = tracker.partial_begin(image_id, config, layers) if tracker else None
        try:
            self._fetch_layers(layers, ids)
        finally:
            if tracker:
                tracker.partial_end(image_id, partial)
        manifest_digest = self.engine.content.put(data)   # push reuses it unchanged
        blobs = [oi.LayerBlob(l["digest"], l["mediaType"], int(l["size"])) for l in layers]
        self.engine.images.add_image(config, blobs, ref=str(ref) if ref.tag else None,
                                     repo_digest=f"{ref.name}@{repo_digest}",
                                     manifest=manifest_digest)
        record_sources(self.engine.meta, self.client.host, ref.path,
                       [l["digest"] for l in layers] + [doc["config"]["digest"]])
        self._done(repo_digest, f"Downloaded newer image for {ref.familiar}")
        return image_id

    def _tracker(self):
        """The registry service that lists pulls under way (absent when the puller
        runs on a bare content store, as the distribution tests do)."""
        return getattr(self.engine, "registry", None)

    def _done(self, repo_digest: str, status: str) -> None:
        self.ch.status(f"Digest: {repo_digest}")
        self.ch.status(f"Status: {status}")

    def _config(self, desc: dict) -> bytes:
        content = self.engine.content
        if not content.exists(desc["digest"]):
            BlobDownload(content, self.client, self.ref.path, desc, self.scope).run()
        return content.read(desc["digest"])

    def _check_platform(self, config: bytes) -> None:
        if not self.platform:
            return
        doc = oi.parse_json(config, "image config")
        got = {"os": doc.get("os"), "architecture": doc.get("architecture")}
        if not manifests.matches(got, {**self.platform, "variant": None}):
            raise InvalidArgument(
                f"image with reference {self.ref.familiar} was found but does not match the "
                f"specified platform: wanted {manifests.platform_str(self.platform)}, "
                f"actual: {manifests.platform_str(got)}")

    def _up_to_date(self, image_id: str, layers: list[dict]) -> bool:
        """The tag already names this image and all its blobs are here."""
        try:
            img = self.engine.images.get(str(self.ref))
        except Exception:
            return False
        have = getattr(img, "id", None) or (img.get("Id") if isinstance(img, dict) else None)
        return have == image_id and all(self.engine.content.exists(l["digest"]) for l in layers)

    def _fetch_layers(self, layers: list[dict], ids: list[str]) -> None:
        chains = oi.chain_ids(ids)
        todo = self._announce(layers, chains)
        pool = ThreadPoolExecutor(CONCURRENCY, thread_name_prefix="pull")
        downloads: dict[int, BlobDownload] = {}
        try:
            by_digest: dict[str, BlobDownload] = {}
            for i in todo:
                digest = layers[i]["digest"]
                if digest not in by_digest:   # a blob listed twice (empty layers) comes once
                    by_digest[digest] = self._download(layers[i])
                    pool.submit(by_digest[digest].run)
                downloads[i] = by_digest[digest]
            self._unpack_all(layers, ids, chains, downloads)
            for dl in downloads.values():
                dl.wait()
        finally:
            for dl in downloads.values():
                dl.cancelled.set()
            pool.shutdown(wait=True)

    def _announce(self, layers: list[dict], chains: list[str]) -> list[int]:
        """Say per layer whether it is here already; return the indexes to download."""
        todo = []
        for i, layer in enumerate(layers):
            ident = dg.short_id(layer["digest"])
            if self.engine.content.exists(layer["digest"]):
                self.ch.status("Already exists", ident)
                continue
            self.ch.status("Pulling fs layer", ident)
            todo.append(i)
        for n, i in enumerate(todo):
            if n >= CONCURRENCY:
                self.ch.status("Waiting", dg.short_id(layers[i]["digest"]))
        return todo

    def _download(self, layer: dict) -> BlobDownload:
        ident = dg.short_id(layer["digest"])

        def report(done: int, total: int, what: str) -> None:
            if what == "Downloading":
                self.ch.progress("Downloading", ident, done, total)
                tracker = self._tracker()
                if tracker:
                    tracker.partial_progress(layer["digest"], done)
            else:
                self.ch.status(what, ident)
        return BlobDownload(self.engine.content, self.client, self.ref.path, layer,
                            self.scope, report)

    def _unpack_all(self, layers, ids, chains, downloads) -> None:
        """Extract layers bottom-up, each as soon as (and while) its bytes arrive."""
        unpack = getattr(self.engine.images, "unpack_stream", None)
        snaps = getattr(self.engine, "snapshots", None)
        for i, layer in enumerate(layers):
            dl = downloads.get(i)
            ident = dg.short_id(layer["digest"])
            with _chain_lock(chains[i]):   # two pulls sharing a layer unpack it once
                if unpack is None or (snaps is not None and snaps.exists(chains[i])):
                    if dl:
                        dl.wait()
                        self.ch.status("Pull complete", ident)
                    continue
                self._unpack_one(unpack, layer, ids[i], chains[i - 1] if i else None, dl, ident)

    def _unpack_one(self, unpack, layer, diff_id, parent, dl, ident) -> None:
        def on_read(pos: int, total: int) -> None:
            self.ch.progress("Extracting", ident, pos, total)
        if dl is not None:
            stream = dl.follow(on_read)
        else:
            stream = self.engine.content.open(layer["digest"])
        media = layer["mediaType"]
        if THREADED_DECOMPRESS and oi.compression_of(media) != "none":
            # decompress on a second thread so the unpacker only parses tar
            stream = io.BufferedReader(ThreadedDecompress(stream, oi.compression_of(media)),
                                       1 << 20)
            media = oi.OCI_LAYER
        try:
            with stream:
                got, _ = unpack(stream, media, parent)
        except Exception:
            if dl is not None:
                dl.wait()   # a failed download explains a failed unpack best: raise its error
            raise
        if dl is not None:
            dl.wait()
        if got != diff_id:
            raise InvalidArgument(f"layer {layer['digest']}: content does not match the image "
                                  f"config (diff id {got}, expected {diff_id})")
        self.ch.status("Pull complete", ident)
