"""Leases: the undo log of a multi-step image operation (containerd's leases, as a file).

Before a blob or a snapshot is created, its name is appended (and flushed) to the
lease file. If the operation fails, :meth:`Lease.rollback` deletes everything listed
that the metadata DB does not reference; if the daemon dies instead, the lease file
survives and start-up recovery rolls it back. Committing the DB rows and then
deleting the lease file makes the operation all-or-nothing.
"""
from __future__ import annotations

import os
import uuid
from typing import Callable


class Lease:
    """One in-flight operation's list of created blobs and snapshots.

    With ``sync=False`` each line reaches the kernel (so a killed daemon's lease is
    still read at the next start) but is not fsync'd: build steps use that. Each
    fsync here is a journal commit that, on a busy ext4, waits for other writers'
    data too (≈0.1-0.3 s each under load, a dozen per build). What the fsync adds is
    only that a power cut cannot orphan a blob or snapshot of the last seconds; it
    never decides whether an image is whole (the DB transaction does), and the DB
    itself runs with ``synchronous=NORMAL``, so its last seconds are not power-cut
    proof either.
    """

    def __init__(self, directory: str, sync: bool = True):
        self.sync = sync
        os.makedirs(directory, mode=0o700, exist_ok=True)
        self.path = os.path.join(directory, uuid.uuid4().hex)
        self._f = open(self.path, "a")
        self.blobs: list[str] = []
        self.snapshots: list[str] = []

    def add_blob(self, digest: str) -> None:
        self._log("blob", digest)
        self.blobs.append(digest)

    def add_snapshot(self, key: str) -> None:
        self._log("snapshot", key)
        self.snapshots.append(key)

    def _log(self, kind: str, name: str) -> None:
        self._f.write(f"{kind} {name}\n")
        self._f.flush()
        if self.sync:
            os.fsync(self._f.fileno())

    def done(self) -> None:
        """The operation is committed: forget the lease."""
        self._f.close()
        try:
            os.unlink(self.path)
        except FileNotFoundError:
            pass


def read(path: str) -> tuple[list[str], list[str]]:
    """(blobs, snapshots) listed in a lease file left by a crash."""
    blobs, snaps = [], []
    with open(path) as f:
        for line in f:
            kind, _, name = line.strip().partition(" ")
            (blobs if kind == "blob" else snaps if kind == "snapshot" else []).append(name)
    return blobs, snaps


def rollback(blobs: list[str], snapshots: list[str],
             drop_blob: Callable[[str], None], drop_snapshot: Callable[[str], None]) -> None:
    """Undo in reverse order; the callbacks decide whether the DB still needs each one."""
    for key in reversed(snapshots):
        drop_snapshot(key)
    for digest in reversed(blobs):
        drop_blob(digest)
