"""Directory contexts: contained sources, hashing, .dockerignore; the client's context tar."""
import io
import os
import tarfile

import pytest

from dockyard.build.context import Context
from dockyard.build.tarball import context_tar, dockerfile_only_tar, looks_like_tar
from dockyard.errors import InvalidArgument, NotFound


def make_tar(entries):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        for name, kind, data in entries:
            ti = tarfile.TarInfo(name)
            if kind == "file":
                ti.size = len(data)
                tar.addfile(ti, io.BytesIO(data))
            elif kind == "dir":
                ti.type = tarfile.DIRTYPE
                tar.addfile(ti)
            elif kind == "sym":
                ti.type, ti.linkname = tarfile.SYMTYPE, data
                tar.addfile(ti)
            elif kind == "link":
                ti.type, ti.linkname = tarfile.LNKTYPE, data
                tar.addfile(ti)
    buf.seek(0)
    return buf


@pytest.fixture
def ctx_dir(tmp_path):
    root = tmp_path / "ctx"
    (root / "src" / "sub").mkdir(parents=True)
    (root / "src" / "a.js").write_text("a")
    (root / "src" / "sub" / "b.js").write_text("b")
    (root / "README.md").write_text("readme")
    (root / "Dockerfile").write_text("FROM x\n")
    (root / ".dockerignore").write_text("*.md\nDockerfile\n")
    (root / "outlink").symlink_to("/etc")
    (root / "inlink").symlink_to("src")
    return root


def test_resolve_and_contain(ctx_dir):
    ctx = Context(str(ctx_dir))
    assert [s.rel for s in ctx.resolve("src/*.js")] == ["src/a.js"]
    assert [s.rel for s in ctx.resolve("./src/../src")] == ["src"]
    assert ctx.resolve("inlink")[0].path == str(ctx_dir / "src")
    with pytest.raises(InvalidArgument, match="outside the build context"):
        ctx.resolve("../x")
    with pytest.raises(InvalidArgument, match="symlink pointing outside"):
        ctx.resolve("outlink")
    with pytest.raises(NotFound, match="excluded by .dockerignore"):
        ctx.resolve("README.md")
    with pytest.raises(NotFound, match="nothing not found"):
        ctx.resolve("nothing")


def test_dockerfile_readable_even_if_ignored(ctx_dir):
    assert Context(str(ctx_dir)).read_file("Dockerfile") == "FROM x\n"
    with pytest.raises(InvalidArgument):
        Context(str(ctx_dir)).read_file("../Dockerfile")


def test_digest_sources_sees_content_and_mode(ctx_dir):
    ctx = Context(str(ctx_dir))
    before = ctx.digest_sources(ctx.resolve("src"))
    assert set(before) == {"src", "src/a.js", "src/sub", "src/sub/b.js"}
    os.chmod(ctx_dir / "src" / "a.js", 0o600)
    after = Context(str(ctx_dir)).digest_sources(Context(str(ctx_dir)).resolve("src"))
    assert before["src/a.js"] != after["src/a.js"]
    assert before["src/sub/b.js"] == after["src/sub/b.js"]


def test_context_tar_honours_dockerignore(ctx_dir):
    data, name = context_tar(str(ctx_dir))
    assert name == "Dockerfile" and looks_like_tar(data)
    names = tarfile.open(fileobj=io.BytesIO(data)).getnames()
    assert "README.md" not in names
    assert {"Dockerfile", ".dockerignore", "src/a.js", "src/sub/b.js"} <= set(names)


def test_context_tar_dockerfile_outside(ctx_dir, tmp_path):
    other = tmp_path / "Other.Dockerfile"
    other.write_text("FROM y\n")
    data, name = context_tar(str(ctx_dir), str(other))
    assert name.startswith(".dockerfile.")
    tar = tarfile.open(fileobj=io.BytesIO(data))
    assert tar.extractfile(name).read() == b"FROM y\n"


def test_dockerfile_only_tar():
    data = dockerfile_only_tar(b"FROM x\n")
    assert looks_like_tar(data) and not looks_like_tar(b"FROM x\n")


def test_hand_written_tar_reads_back(tmp_path):
    root = tmp_path / "c"
    long_dir = root / ("d" * 120)
    long_dir.mkdir(parents=True)
    (long_dir / ("f" * 90)).write_bytes(b"long")
    (root / "ünïcode.txt").write_bytes(b"u" * 1000)
    (root / "empty").write_bytes(b"")
    (root / "link").symlink_to("l" * 150)
    os.chmod(root / "empty", 0o751)
    data, _ = context_tar(str(root))
    assert len(data) % 512 == 0
    tar = tarfile.open(fileobj=io.BytesIO(data))
    by_name = {m.name: m for m in tar.getmembers()}
    assert tar.extractfile("d" * 120 + "/" + "f" * 90).read() == b"long"
    assert tar.extractfile("ünïcode.txt").read() == b"u" * 1000
    assert by_name["link"].linkname == "l" * 150
    assert by_name["empty"].mode == 0o751 and by_name["empty"].size == 0
    assert by_name["d" * 120].isdir()


def test_names_that_are_not_utf8_travel_as_raw_bytes(tmp_path):
    """os.listdir gives such a name with surrogate escapes; the tar carries its bytes."""
    root = tmp_path / "c"
    root.mkdir()
    raw = b"caf\xe9-" + b"x" * 120  # not UTF-8, and too long for ustar: a PAX record
    with open(os.path.join(os.fsencode(root), raw), "wb") as f:
        f.write(b"latin1")
    os.symlink(b"\xff-target", os.path.join(os.fsencode(root), b"l\xfe"))
    data, _ = context_tar(str(root))
    assert b"hdrcharset=BINARY" in data
    tar = tarfile.open(fileobj=io.BytesIO(data), encoding="utf-8", errors="surrogateescape")
    names = {m.name.encode("utf-8", "surrogateescape"): m for m in tar.getmembers()}
    assert tar.extractfile(names[raw]).read() == b"latin1"
    assert names[b"l\xfe"].linkname.encode("utf-8", "surrogateescape") == b"\xff-target"


def test_image_rootfs_context_resolves_symlinks_inside(tmp_path):
    root = tmp_path / "rootfs"
    (root / "usr" / "lib").mkdir(parents=True)
    (root / "usr" / "lib" / "libx.so").write_text("x")
    (root / "lib").symlink_to("/usr/lib")  # absolute: inside the rootfs, not the host's /usr/lib
    ctx = Context(str(root), in_root=True)
    assert [s.path for s in ctx.resolve("/lib/libx.so")] == [str(root / "usr/lib/libx.so")]
    assert [s.rel for s in ctx.resolve("/lib/*.so")] == ["lib/libx.so"]
    with pytest.raises(NotFound):
        ctx.resolve("/lib/*.nothere")
