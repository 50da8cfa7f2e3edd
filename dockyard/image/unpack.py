"""Ingest a layer: keep the original blob, apply it to a new snapshot unless it is there.

``ingest_stream`` (import) spools a layer (tar, tar.gz, tar.zst; xz/bzip2 are stored
uncompressed) into the content store, hashing it on the way, so the diff ID is known
before anything is written to a snapshot: a layer that is already unpacked is not
unpacked again. A new one is extracted from the spooled blob into a scratch snapshot,
which is then committed under the layer's chain ID. Every created blob and snapshot is
written to the lease first, so a failure or a crash can undo it.
"""
from __future__ import annotations

import hashlib
import logging
import os
import threading
import time
import uuid
from dataclasses import dataclass

from dockyard.errors import InvalidArgument
from dockyard.image import streams
from dockyard.image.layer import LayerError, apply_tar
from dockyard.image.lease import Lease
from dockyard.oci import image as oci
from dockyard.store.snapshots import SCRATCH_PREFIX

_STORED_AS_IS = ("none", "gzip", "zstd")
_SPOOL_CHUNK = 1 << 20
log = logging.getLogger("dockyard.images")


@dataclass
class Layer:
    """An unpacked layer: its IDs, content size and (when kept) its blob."""

    diff_id: str
    chain_id: str
    parent: str | None
    size: int
    blob: oci.LayerBlob | None = None


class _BlobSink:
    """Feeds a content writer and starts the disk writeback every few MiB.

    The final fsync of a big blob then waits only for the tail, instead of flushing
    hundreds of MiB after the extraction is done (it overlaps with extraction).
    """

    _STEP = 8 << 20

    def __init__(self, writer):
        self.w = writer
        self.flushed = 0

    def write(self, data: bytes) -> None:
        self.w.write(data)
        if self.w.size - self.flushed >= self._STEP:
            os.posix_fadvise(self.w.fileno(), self.flushed, self.w.size - self.flushed,
                             os.POSIX_FADV_DONTNEED)
            self.flushed = self.w.size


def chain_id(parent: str | None, diff_id: str) -> str:
    if not parent:
        return diff_id
    return "sha256:" + hashlib.sha256(f"{parent} {diff_id}".encode()).hexdigest()


def _extract(snapshots, tar_stream, parent: str | None, lease: Lease, what: str):
    """Apply ``tar_stream`` into a scratch snapshot over ``parent``; return (key, size)."""
    key = SCRATCH_PREFIX + uuid.uuid4().hex
    lease.add_snapshot(key)
    lowers = snapshots.prepare(key, parent)
    try:
        size = apply_tar(tar_stream, snapshots.upper(key), lowers)
    except LayerError as e:
        raise InvalidArgument(f"{what}: {e}") from None
    except streams.read_decompress_errors() as e:
        raise InvalidArgument(f"{what}: corrupt or truncated compressed data ({e})") from None
    snapshots.record_size(key, size)
    return key, size


def _commit(snapshots, key: str, parent: str | None, diff_id: str, lease: Lease) -> str:
    chain = chain_id(parent, diff_id)
    if snapshots.exists(chain):  # same content already unpacked (another image has it)
        snapshots.adopt_size(chain, key)  # one from an older store: reusable from now on
        snapshots.remove(key)
    else:
        lease.add_snapshot(chain)
        snapshots.commit(chain, key)
    return chain


def ingest_stream(content, snapshots, stream, parent: str | None, lease: Lease,
                  what: str = "layer") -> Layer:
    """Read a layer once from ``stream``: store its blob and unpack it over ``parent``.

    The body is first spooled into the content store, hashed on the way (blob digest and,
    for gzip/zstd, the diff ID of the decompressed tar), so the layer's chain ID is known
    before anything is unpacked. When that layer is already unpacked (a committed
    snapshot with its recorded size), nothing is extracted: podman and containerd skip an
    unpacked layer the same way, and unpacking 8,700 files only to delete them again cost
    seconds. Otherwise the spooled blob is unpacked while a helper thread syncs and
    commits it.
    """
    t0 = time.perf_counter()
    peek = streams.PeekReader(stream)
    comp = streams.sniff(peek)
    compressed = comp in ("gzip", "zstd")
    media = oci.layer_media_type(comp) if comp in _STORED_AS_IS else oci.OCI_LAYER
    with content.writer() as w:
        diff_id = _spool(peek, comp, w, what)
        t1 = time.perf_counter()
        chain = chain_id(parent, diff_id)
        size = snapshots.recorded_size(chain)
        if size is not None:
            blob = _commit_blob(content, w, lease)
            log.debug("import phases: receive=%.0fms, layer %s already unpacked",
                      (t1 - t0) * 1e3, chain[:19])
            return Layer(diff_id, chain, parent, size, oci.LayerBlob(blob, media, w.size))
        with w.reader() as f, _BackgroundCommit(content, w, lease) as committing:
            key, size = _extract(snapshots, streams.decompressed(f, comp) if compressed else f,
                                 parent, lease, what)
            t2 = time.perf_counter()
        blob = committing.digest
    chain = _commit(snapshots, key, parent, diff_id, lease)
    log.debug("import phases: receive=%.0fms unpack=%.0fms commit=%.0fms",
              (t1 - t0) * 1e3, (t2 - t1) * 1e3, (time.perf_counter() - t2) * 1e3)
    return Layer(diff_id, chain, parent, size, oci.LayerBlob(blob, media, w.size))


def _spool(raw, comp: str, w, what: str) -> str:
    """Copy the whole input into the content writer; return the layer's diff ID.

    gzip/zstd are stored as received and their decompressed tar hashed on the way;
    xz/bzip2 are stored decompressed; a plain tar's diff ID is its blob digest.
    """
    try:
        if comp == "none":
            # receiving on a helper thread overlaps hashing and writing (~0.1 s of 0.5)
            streams.copy_pipelined(lambda: raw.read1(_SPOOL_CHUNK), w.write)
            return w.current_digest
        if comp not in _STORED_AS_IS:
            plain = streams.decompressed(raw, comp)
            while data := plain.read(_SPOOL_CHUNK):
                w.write(data)
            return w.current_digest
        tee = streams.TeeReader(raw, w.write)
        hashed = streams.HashReader(streams.decompressed(tee, comp))
        hashed.drain()
        while tee.read(_SPOOL_CHUNK):  # bytes after the compressed end belong to the blob
            pass
        return hashed.digest
    except streams.read_decompress_errors() as e:
        if isinstance(e, OSError) and e.errno:
            raise  # the disk or the connection (ENOSPC, ECONNRESET), not the data
        raise InvalidArgument(f"{what}: corrupt or truncated compressed data ({e})") from None


class _BackgroundCommit:
    """Sync, verify and rename the spooled blob on a helper thread while the caller unpacks.

    The fsync of a 200 MB blob is mostly waiting for the disk; unpacking is CPU. Leaving
    the block waits for the thread and re-raises its error.
    """

    def __init__(self, content, w, lease: Lease):
        self.content, self.w, self.lease = content, w, lease
        self.digest: str | None = None
        self._err: BaseException | None = None
        self._t: threading.Thread | None = None

    def __enter__(self) -> "_BackgroundCommit":
        digest = self.w.current_digest
        if self.content.exists(digest):
            self.digest = digest  # already stored: the temp file is dropped by the writer
            return self
        self.lease.add_blob(digest)  # listed before it can appear
        self._t = threading.Thread(target=self._run, name="blob-commit", daemon=True)
        self._t.start()
        return self

    def _run(self) -> None:
        try:
            self.digest = self.w.commit()
        except BaseException as e:  # noqa: BLE001 - re-raised on the caller's thread
            self._err = e

    def __exit__(self, exc_type, *rest) -> None:
        if self._t is not None:
            self._t.join()
        if self._err is not None and exc_type is None:
            raise self._err


def _commit_blob(content, w, lease: Lease) -> str:
    digest = w.current_digest
    if content.exists(digest):
        return digest  # the writer's temp file is dropped when its block ends
    lease.add_blob(digest)
    return w.commit()


def ingest_blob(content, snapshots, blob: oci.LayerBlob, parent: str | None,
                expected_diff_id: str, lease: Lease) -> Layer:
    """Unpack a layer blob already in the content store and check its diff ID."""
    what = f"layer {blob.digest}"
    with content.open(blob.digest) as f:
        peek = streams.PeekReader(f)
        comp = streams.sniff(peek)
        hashed = streams.HashReader(streams.decompressed(peek, comp))
        key, size = _extract(snapshots, hashed, parent, lease, what)
        try:
            hashed.drain()
        except streams.read_decompress_errors() as e:
            raise InvalidArgument(f"{what}: corrupt compressed data ({e})") from None
    if hashed.digest != expected_diff_id:
        raise InvalidArgument(f"{what}: content does not match the image config: diff ID "
                              f"is {hashed.digest}, config says {expected_diff_id}")
    chain = _commit(snapshots, key, parent, hashed.digest, lease)
    return Layer(hashed.digest, chain, parent, size, blob)

