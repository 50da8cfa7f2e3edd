"""Ingest a layer in one pass: keep the original blob, apply it to a new snapshot.

``ingest_stream`` reads a layer (tar, tar.gz, tar.zst; xz/bzip2 are stored
uncompressed) exactly once: the raw bytes are teed into the content store while the
decompressed tar is hashed (diff ID) and extracted into a scratch snapshot, which is
then committed under the layer's chain ID. Every created blob and snapshot is written
to the lease first, so a failure or a crash can undo it.
"""
from __future__ import annotations

import hashlib
import os
import uuid
from dataclasses import dataclass

from dockyard.errors import InvalidArgument
from dockyard.image import streams
from dockyard.image.layer import LayerError, apply_tar
from dockyard.image.lease import Lease
from dockyard.oci import image as oci
from dockyard.store.snapshots import SCRATCH_PREFIX

_STORED_AS_IS = ("none", "gzip", "zstd")


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
    return key, size


def _commit(snapshots, key: str, parent: str | None, diff_id: str, lease: Lease) -> str:
    chain = chain_id(parent, diff_id)
    if snapshots.exists(chain):
        snapshots.remove(key)  # same content already unpacked (another image has it)
    else:
        lease.add_snapshot(chain)
        snapshots.commit(chain, key)
    return chain


def ingest_stream(content, snapshots, stream, parent: str | None, lease: Lease,
                  what: str = "layer") -> Layer:
    """Read a layer once from ``stream``: store its blob and unpack it over ``parent``.

    A helper thread receives the bytes and writes/hashes the blob while this thread
    extracts (see streams.Prefetcher).
    """
    peek = streams.PeekReader(stream)
    comp = streams.sniff(peek)
    with content.writer() as w:
        sink = _BlobSink(w).write
        if comp in _STORED_AS_IS:
            raw = streams.Prefetcher(peek, sink)
            tar_in = streams.decompressed(raw, comp)
            media = oci.layer_media_type(comp)
        else:  # xz/bzip2 have no OCI media type: keep the plain tar
            raw = streams.Prefetcher(streams.decompressed(peek, comp), sink)
            tar_in = raw
            media = oci.OCI_LAYER
        try:
            hashed = streams.HashReader(tar_in) if comp in ("gzip", "zstd") else None
            key, size = _extract(snapshots, hashed or tar_in, parent, lease, what)
            try:
                (hashed or streams.HashReader(tar_in)).drain()
            except streams.read_decompress_errors() as e:
                raise InvalidArgument(f"{what}: corrupt compressed data ({e})") from None
        finally:
            raw.close()
        blob = _commit_blob(content, w, lease)
    diff_id = hashed.digest if hashed else blob
    chain = _commit(snapshots, key, parent, diff_id, lease)
    return Layer(diff_id, chain, parent, size, oci.LayerBlob(blob, media, content.size(blob)))


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

