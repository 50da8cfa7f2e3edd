"""Leases: every line reaches the file at once; only durable leases fsync each line."""
from __future__ import annotations

import os

import pytest

from dockyard.image import lease as leases


@pytest.mark.parametrize("sync", [True, False])
def test_lines_are_readable_at_once_and_fsync_only_when_durable(tmp_path, monkeypatch, sync):
    calls = []
    monkeypatch.setattr(leases.os, "fsync", lambda fd: calls.append(fd))
    lease = leases.Lease(str(tmp_path), sync)
    lease.add_blob("sha256:" + "a" * 64)
    lease.add_snapshot("extract-build-1")
    # what recover() reads after a kill -9: the lines are in the file, not in a buffer
    assert leases.read(lease.path) == (["sha256:" + "a" * 64], ["extract-build-1"])
    assert len(calls) == (2 if sync else 0)
    lease.done()
    assert not os.path.exists(lease.path)
