"""Writes into a rootfs never follow a symlink out of it."""
import os

import pytest

from dockyard.build import copier, users
from dockyard.errors import InvalidArgument


@pytest.fixture
def rootfs(tmp_path):
    root = tmp_path / "rootfs"
    (root / "usr" / "lib").mkdir(parents=True)
    (root / "etc").mkdir()
    (root / "etc" / "passwd").write_text("root:x:0:0::/root:/bin/sh\napp:x:1000:1001::/home/app:/bin/sh\n")
    (root / "etc" / "group").write_text("root:x:0:\nstaff:x:50:\n")
    (root / "lib").symlink_to("/usr/lib")          # absolute: means rootfs/usr/lib
    (root / "escape").symlink_to("../../..")      # relative, climbing out
    (root / "abs").symlink_to("/")
    return root


def test_resolve_in_root(rootfs):
    r = str(rootfs)
    assert copier.resolve_in_root(r, "/lib/x") == os.path.join(r, "usr/lib/x")
    assert copier.resolve_in_root(r, "/escape/etc/passwd") == os.path.join(r, "etc/passwd")
    assert copier.resolve_in_root(r, "/abs/../../etc") == os.path.join(r, "etc")
    assert copier.resolve_in_root(r, "../../x") == os.path.join(r, "x")


def test_symlink_loop(rootfs):
    (rootfs / "loop").symlink_to("loop")
    with pytest.raises(InvalidArgument, match="too many levels"):
        copier.resolve_in_root(str(rootfs), "/loop/x")


def test_write_through_symlinks_stays_inside(rootfs, tmp_path):
    copier.write_bytes(str(rootfs), "/escape/pwned", b"x", copier.Owner(), 0o644)
    assert (rootfs / "pwned").read_bytes() == b"x"
    assert not (tmp_path.parent / "pwned").exists()
    (rootfs / "target").symlink_to("/etc/shadow-host")
    copier.write_bytes(str(rootfs), "/target", b"y", copier.Owner(), 0o600)
    assert (rootfs / "target").read_bytes() == b"y" and not os.path.islink(rootfs / "target")


def test_make_dirs_and_copy_entry(rootfs, tmp_path):
    src = tmp_path / "f"
    src.write_text("data")
    os.chmod(src, 0o751)
    copier.make_dirs(str(rootfs), "/lib/app/deep", copier.Owner(os.getuid(), os.getgid()))
    assert (rootfs / "usr/lib/app/deep").is_dir()
    copier.copy_entry(str(src), os.lstat(src), str(rootfs), "/lib/app/deep/f",
                      copier.Owner(os.getuid(), os.getgid()), None)
    out = rootfs / "usr/lib/app/deep/f"
    assert out.read_text() == "data" and (out.stat().st_mode & 0o777) == 0o751
    assert out.stat().st_mtime == src.stat().st_mtime
    copier.copy_entry(str(src), os.lstat(src), str(rootfs), "/lib/app/deep/f",
                      copier.Owner(os.getuid(), os.getgid()), 0o600)
    assert (out.stat().st_mode & 0o777) == 0o600


def test_file_in_the_way(rootfs):
    (rootfs / "afile").write_text("")
    with pytest.raises(InvalidArgument, match="a file is in the way"):
        copier.make_dirs(str(rootfs), "/afile/sub", None)


def test_resolve_owner(rootfs):
    r = str(rootfs)
    assert users.resolve_owner(r, "app") == copier.Owner(1000, 1001)
    assert users.resolve_owner(r, "app:staff") == copier.Owner(1000, 50)
    assert users.resolve_owner(r, "42") == copier.Owner(42, 42)
    assert users.resolve_owner(r, "42:7") == copier.Owner(42, 7)
    with pytest.raises(InvalidArgument, match="unable to find user nobody"):
        users.resolve_owner(r, "nobody")
    with pytest.raises(InvalidArgument, match="unable to find group wheel"):
        users.resolve_owner(r, "app:wheel")


def test_copy_replaces_what_is_in_the_way(rootfs, tmp_path):
    """A file over a symlink (never written through), over a directory; a symlink over a file."""
    me = copier.Owner(os.getuid(), os.getgid())
    src = tmp_path / "f"
    src.write_text("new")
    outside = tmp_path / "outside"
    outside.write_text("keep")
    (rootfs / "etc" / "link").symlink_to(str(outside))
    (rootfs / "etc" / "dir" / "sub").mkdir(parents=True)
    for name in ("link", "dir"):
        copier.copy_entry(str(src), os.lstat(src), str(rootfs), f"/etc/{name}", me, None)
        assert (rootfs / "etc" / name).read_text() == "new"
        assert not (rootfs / "etc" / name).is_symlink()
    assert outside.read_text() == "keep"
    (tmp_path / "l").symlink_to("passwd")
    copier.copy_entry(str(tmp_path / "l"), os.lstat(tmp_path / "l"), str(rootfs), "/etc/link", me, None)
    assert os.readlink(rootfs / "etc" / "link") == "passwd"
