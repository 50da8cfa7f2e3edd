"""Compression sniffing, tee/hash readers and ``import --change`` parsing."""
from __future__ import annotations

import gzip
import hashlib
import io
import json
import lzma

import pytest

from dockyard.errors import InvalidArgument
from dockyard.image import importer, streams


@pytest.mark.parametrize("make,name", [
    (lambda b: b, "none"), (gzip.compress, "gzip"), (lzma.compress, "xz"),
    (lambda b: __import__("zstandard").ZstdCompressor().compress(b), "zstd"),
    (lambda b: __import__("bz2").compress(b), "bzip2"),
])
def test_sniff_and_decompress(make, name):
    raw = b"tar data " * 1000
    peek = streams.PeekReader(io.BytesIO(make(raw)))
    assert streams.sniff(peek) == name
    assert streams.decompressed(peek, name).read() == raw


def test_peek_does_not_consume():
    r = streams.PeekReader(io.BytesIO(b"abcdef"))
    assert r.peek(3) == b"abc" and r.read(2) == b"ab" and r.read() == b"cdef"


def test_tee_and_hash_see_every_byte():
    seen = []
    h = streams.HashReader(streams.TeeReader(io.BytesIO(b"x" * 3000), seen.append))
    h.read(10)
    h.drain()
    assert b"".join(seen) == b"x" * 3000
    assert h.digest == "sha256:" + hashlib.sha256(b"x" * 3000).hexdigest() and h.size == 3000


def test_changes_apply_like_docker():
    cfg = importer.apply_changes({}, [
        'CMD ["sh", "-c", "echo hi"]', "ENTRYPOINT /bin/init --x", "ENV A=1 B='two words'",
        "ENV C 3", "WORKDIR /app", "EXPOSE 80 53/udp", "USER nobody", "LABEL k=v",
        "VOLUME /data", "STOPSIGNAL SIGINT", "ENV A=override"])
    assert cfg["Cmd"] == ["sh", "-c", "echo hi"]
    assert cfg["Entrypoint"] == ["/bin/sh", "-c", "/bin/init --x"]
    assert cfg["Env"] == ["B=two words", "C=3", "A=override"]
    assert cfg["WorkingDir"] == "/app" and cfg["User"] == "nobody"
    assert cfg["ExposedPorts"] == {"80/tcp": {}, "53/udp": {}}
    assert cfg["Labels"] == {"k": "v"} and cfg["Volumes"] == {"/data": {}}
    assert cfg["StopSignal"] == "SIGINT"


@pytest.mark.parametrize("change,msg", [("RUN rm -rf /", "RUN is not a valid change"),
                                        ("CMD", "needs an argument"),
                                        ("ENV =x", "not KEY=VALUE")])
def test_bad_changes_are_one_clear_line(change, msg):
    with pytest.raises(InvalidArgument, match=msg):
        importer.apply_changes({}, [change])


def test_import_config_shape():
    diff = "sha256:" + "a" * 64
    doc = json.loads(importer.import_config(diff, ["CMD sh"], "msg"))
    assert doc["rootfs"] == {"type": "layers", "diff_ids": [diff]}
    assert doc["os"] == "linux" and doc["architecture"] == importer.go_arch()
    assert doc["history"][0]["comment"] == "msg" and doc["config"]["Cmd"][-1] == "sh"
