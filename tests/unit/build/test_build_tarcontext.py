"""Tar contexts: indexed in place, same rules as directory contexts."""
import bz2
import gzip
import hashlib
import io
import os

import pytest

from dockyard.build import copier
from dockyard.build.tarcontext import TarContext, spool
from dockyard.errors import InvalidArgument, NotFound
from tests.unit.build.test_build_context import make_tar


@pytest.fixture
def tarctx(tmp_path):
    made = []

    def make(entries, compress=None):
        data = make_tar(entries).getvalue()
        if compress:
            data = compress(data)
        path = str(tmp_path / f"ctx{len(made)}.tar")
        spool(io.BytesIO(data), path)
        ctx = TarContext(path)
        made.append(ctx)
        return ctx
    yield make
    for c in made:
        c.close()


BASIC = [("Dockerfile", "file", b"FROM x\n"), (".dockerignore", "file", b"*.md\nDockerfile\nsecret\n"),
         ("src/a.js", "file", b"a"), ("src/sub/b.js", "file", b"b"), ("README.md", "file", b"r"),
         ("inlink", "sym", "src"), ("outlink", "sym", "/etc"), ("uplink", "sym", "../.."),
         ("hard", "link", "src/a.js")]


@pytest.mark.parametrize("compress", [None, gzip.compress, bz2.compress], ids=["plain", "gzip", "bzip2"])
def test_index_and_read(tarctx, compress):
    ctx = tarctx(BASIC, compress)
    assert ctx.read_file("Dockerfile") == "FROM x\n"  # read even though ignored
    assert ctx.entries["src/a.js"].sha == hashlib.sha256(b"a").hexdigest() == ctx.entries["hard"].sha
    assert ctx.entries["src"].kind == "d"  # implied by src/a.js


def test_resolve_rules(tarctx):
    ctx = tarctx(BASIC)
    assert [s.rel for s in ctx.resolve("src/*.js")] == ["src/a.js"]
    assert [s.rel for s in ctx.resolve("s*")] == ["src"]  # README.md, secret: ignored
    assert ctx.resolve("inlink")[0].path == "src"
    assert [s.path for s in ctx.resolve("inlink/sub/b.js")] == ["src/sub/b.js"]
    with pytest.raises(InvalidArgument, match="outside the build context"):
        ctx.resolve("../x")
    for bad in ("outlink", "uplink", "outlink/passwd"):
        with pytest.raises(InvalidArgument, match="symlink pointing outside"):
            ctx.resolve(bad)
    with pytest.raises(NotFound, match="excluded by .dockerignore"):
        ctx.resolve("README.md")
    with pytest.raises(NotFound):
        ctx.resolve("nothing")


@pytest.mark.parametrize("entries,msg", [
    ([("../evil", "file", b"x")], "'..' paths are not allowed"),
    ([("/etc/evil", "file", b"x")], "absolute"),
    ([("h", "link", "nothere")], "hard link"),
])
def test_bad_members(tarctx, entries, msg):
    with pytest.raises(InvalidArgument, match=msg):
        tarctx(entries)


def test_not_a_tar(tmp_path):
    path = str(tmp_path / "c.tar")
    spool(io.BytesIO(b"FROM x\n" * 300), path)
    with pytest.raises(InvalidArgument, match="not a valid tar"):
        TarContext(path)


def test_walk_digest_and_copy(tarctx, tmp_path):
    ctx = tarctx(BASIC + [("docs/x.md", "file", b"x"), ("src/.hidden", "file", b"h")])
    src = ctx.resolve("src")[0]
    fps = ctx.digest_sources([src])
    assert set(fps) == {"src", "src/a.js", "src/sub", "src/sub/b.js", "src/.hidden"}
    assert fps["src/a.js"].endswith(hashlib.sha256(b"a").hexdigest())
    root = tmp_path / "rootfs"
    root.mkdir()
    me = copier.Owner(os.getuid(), os.getgid())
    copier.make_dirs(str(root), "/app", me)
    for rel, data, st in ctx.walk(src):  # directories come before what is in them
        if rel:
            copier.copy_entry(data, st, str(root), "/app/" + rel, me, None)
    assert (root / "app" / "sub" / "b.js").read_bytes() == b"b"
    assert (root / "app" / ".hidden").read_bytes() == b"h"


def test_replaced_members(tarctx):
    ctx = tarctx([("a", "file", b"1"), ("a", "file", b"22"), ("d/x", "file", b""), ("d", "file", b"f")])
    assert ctx.read_file("a") == "22"
    assert ctx.entries["d"].kind == "f" and "d" not in ctx.children


def test_reincluded_under_ignored_dir(tarctx):
    ctx = tarctx([(".dockerignore", "file", b"docs\n!docs/keep.md\n"),
                  ("docs/keep.md", "file", b"k"), ("docs/x.md", "file", b"x")])
    rels = [rel for rel, _, _ in ctx.walk(ctx.resolve(".")[0])]
    assert "docs/keep.md" in rels and "docs/x.md" not in rels and "docs" not in rels


def test_tar_without_padding_or_end_blocks(tmp_path):
    """What docker's CLI sends with -f outside the context: the last member unpadded."""
    data = make_tar([("a", "file", b"x" * 10), ("Dockerfile.x", "file", b"FROM y\n")]).getvalue()
    cut = data.rstrip(b"\0")
    path = str(tmp_path / "c.tar")
    spool(io.BytesIO(cut), path)
    ctx = TarContext(path)
    try:
        assert ctx.read_file("Dockerfile.x") == "FROM y\n"
    finally:
        ctx.close()
    truncated = str(tmp_path / "t.tar")
    spool(io.BytesIO(cut[:-3]), truncated)  # data really missing: still an error
    with pytest.raises(InvalidArgument):
        TarContext(truncated)
