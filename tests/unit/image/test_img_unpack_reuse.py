"""Import's spool-first path: pipelined copy, read1, and the recorded snapshot sizes that
let a re-import skip unpacking a layer that is already there."""
from __future__ import annotations

import io
import json
import os
import threading

import pytest

from dockyard.image import streams
from dockyard.store.snapshots import Snapshotter


def test_copy_pipelined_keeps_every_chunk_in_order():
    chunks = [bytes([i]) * (i + 1) for i in range(50)]
    src = iter(chunks + [b""])
    out = []
    streams.copy_pipelined(lambda: next(src), out.append, depth=2)
    assert out == chunks


def test_copy_pipelined_raises_a_read_error_here():
    calls = iter([b"a", b"b"])

    def read():
        try:
            return next(calls)
        except StopIteration:
            raise ConnectionResetError("client went away") from None
    out = []
    with pytest.raises(ConnectionResetError):
        streams.copy_pipelined(read, out.append)
    assert out == [b"a", b"b"]
    assert not [t for t in threading.enumerate() if t.name == "layer-receive"]


def test_copy_pipelined_stops_the_reader_when_the_sink_fails():
    def read():
        return b"x" * 10  # an endless body

    def sink(data):
        raise OSError(28, "No space left on device")
    with pytest.raises(OSError, match="No space"):
        streams.copy_pipelined(read, sink, depth=1)
    assert not [t for t in threading.enumerate() if t.name == "layer-receive"]


def test_peek_reader_read1_returns_peeked_bytes_first():
    r = streams.PeekReader(io.BytesIO(b"abcdefgh"))
    assert r.peek(3) == b"abc"
    assert r.read1(2) == b"ab" and r.read1(10) == b"c"
    assert r.read1(10) == b"defgh" and r.read1(10) == b""


def test_peek_reader_read1_does_not_take_an_empty_piece_for_the_end():
    class Body(io.BytesIO):
        first = True

        def read1(self, n=-1):
            if self.first:  # e.g. an empty data event before the next piece
                self.first = False
                return b""
            return super().read1(n)
    assert streams.PeekReader(Body(b"data")).read1(10) == b"data"


def _prepared(tmp_path, key="extract-1"):
    s = Snapshotter(str(tmp_path / "snapshots"))
    s.prepare(key, None)
    return s


def test_recorded_size_survives_commit(tmp_path):
    s = _prepared(tmp_path)
    s.record_size("extract-1", 1234)
    name = "sha256:" + "ab" * 32
    s.commit(name, "extract-1")
    assert s.recorded_size(name) == 1234
    assert s.parent(name) is None


def test_no_recorded_size_without_one(tmp_path):
    s = _prepared(tmp_path)
    name = "sha256:" + "cd" * 32
    s.commit(name, "extract-1")  # committed without a size: an older store, a build step
    assert s.recorded_size(name) is None
    assert s.recorded_size("sha256:" + "ef" * 32) is None  # no such snapshot


def test_recorded_size_checks_the_full_name(tmp_path):
    """Directories are named by 16 hex digits: another chain ID with the same prefix must
    not be taken for the layer that is there."""
    s = _prepared(tmp_path)
    s.record_size("extract-1", 10)
    name = "sha256:" + "12" * 32
    s.commit(name, "extract-1")
    twin = "sha256:" + "12" * 8 + "34" * 24
    assert s.recorded_size(twin) is None and s.recorded_size(name) == 10


def test_recorded_size_ignores_a_damaged_record(tmp_path):
    s = _prepared(tmp_path)
    name = "sha256:" + "56" * 32
    s.commit(name, "extract-1")
    info = os.path.join(os.path.dirname(s.dir(name)), "info.json")
    with open(info, "w") as f:
        json.dump({"name": name, "size": "big"}, f)
    assert s.recorded_size(name) is None
    with open(info, "w") as f:
        f.write("{not json")
    assert s.recorded_size(name) is None


def test_adopt_size_only_fills_a_missing_size(tmp_path):
    s = _prepared(tmp_path)
    name = "sha256:" + "bc" * 32
    s.commit(name, "extract-1")  # committed without a size
    s.prepare("extract-2", None)
    s.record_size("extract-2", 77)
    s.adopt_size(name, "extract-2")
    assert s.recorded_size(name) == 77
    s.prepare("extract-3", None)
    s.record_size("extract-3", 99)
    s.adopt_size(name, "extract-3")  # already known: unchanged
    assert s.recorded_size(name) == 77
    s.adopt_size("sha256:" + "de" * 32, "extract-3")  # no such snapshot: nothing happens
    assert s.recorded_size("sha256:" + "de" * 32) is None
