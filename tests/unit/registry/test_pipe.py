"""Decompression on a helper thread: same bytes, errors raised to the reader, early close."""
import gzip
import io
import os
import zlib

import pytest
import zstandard

from dockyard.registry.pipe import ThreadedDecompress

DATA = os.urandom(300_000) * 8


def test_gzip_and_zstd_round_trip():
    for comp, blob in (("gzip", gzip.compress(DATA)),
                       ("zstd", zstandard.ZstdCompressor().compress(DATA))):
        with io.BufferedReader(ThreadedDecompress(io.BytesIO(blob), comp)) as r:
            assert r.read() == DATA
            assert r.read() == b""


def test_multi_member_gzip():
    blob = gzip.compress(DATA[:1000]) + gzip.compress(DATA[1000:2000])
    with io.BufferedReader(ThreadedDecompress(io.BytesIO(blob), "gzip")) as r:
        assert r.read() == DATA[:2000]


def test_corrupt_stream_raises_in_the_reader():
    blob = bytearray(gzip.compress(DATA))
    blob[len(blob) // 2] ^= 0xFF
    with pytest.raises((zlib.error, OSError, EOFError)):
        with io.BufferedReader(ThreadedDecompress(io.BytesIO(bytes(blob)), "gzip")) as r:
            r.read()


def test_close_before_the_end_closes_the_source():
    src = io.BytesIO(gzip.compress(DATA))
    r = io.BufferedReader(ThreadedDecompress(src, "gzip"))
    r.read(10)
    r.close()
    r.raw._thread.join(10)
    assert src.closed
