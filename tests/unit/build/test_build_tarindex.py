"""A context body spooled and indexed in one pass gives what spool-then-index gives."""
import gzip
import hashlib
import io
import lzma

import pytest

from dockyard.build.tarcontext import TarContext, spool
from dockyard.errors import InvalidArgument
from tests.unit.build.test_build_context import make_tar

ENTRIES = [("Dockerfile", "file", b"FROM x\n"), (".dockerignore", "file", b"*.md\n"),
           ("src/a.js", "file", b"a" * 70000), ("src/sub/b.js", "file", b"b"),
           ("README.md", "file", b"r"), ("inlink", "sym", "src"), ("hard", "link", "src/a.js"),
           ("l" * 150, "file", b"long name")]


def _both(tmp_path, data: bytes):
    spooled = str(tmp_path / "a.tar")
    spool(io.BytesIO(data), spooled)
    return TarContext(spooled), TarContext(str(tmp_path / "b.tar"), io.BytesIO(data))


@pytest.mark.parametrize("compress", [None, gzip.compress, lzma.compress], ids=["plain", "gzip", "xz"])
def test_one_pass_matches_two(tmp_path, compress):
    data = make_tar(ENTRIES).getvalue()
    a, b = _both(tmp_path, compress(data) if compress else data)
    try:
        assert a.entries == b.entries and a.children == b.children
        assert open(b.tar_path, "rb").read() == data  # the spool file is the whole tar
        assert b.entries["hard"].sha == hashlib.sha256(b"a" * 70000).hexdigest()
        assert b.read_file("l" * 150) == "long name"
        assert [s.rel for s in b.resolve("*")] == [s.rel for s in a.resolve("*")]
    finally:
        a.close()
        b.close()


def test_unpadded_last_member_and_cut_data(tmp_path):
    cut = make_tar([("a", "file", b"x" * 10), ("Dockerfile.x", "file", b"FROM y\n")]).getvalue().rstrip(b"\0")
    ctx = TarContext(str(tmp_path / "c.tar"), io.BytesIO(cut))
    assert ctx.read_file("Dockerfile.x") == "FROM y\n"
    ctx.close()
    with pytest.raises(InvalidArgument, match="'Dockerfile.x': its data is cut short"):
        TarContext(str(tmp_path / "t.tar"), io.BytesIO(cut[:-3]))


@pytest.mark.parametrize("body,msg", [
    (b"", "not a valid tar archive: empty body"),
    (b"FROM x\n" * 300, "not a valid tar archive"),
    (b"\x1f\x8b" + b"junk" * 50, "cannot decompress the gz body"),
])
def test_bad_bodies(tmp_path, body, msg):
    with pytest.raises(InvalidArgument, match=msg):
        TarContext(str(tmp_path / "c.tar"), io.BytesIO(body))
