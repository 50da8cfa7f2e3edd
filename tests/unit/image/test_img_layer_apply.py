"""Layer apply: contents and metadata land under the target, and nothing escapes it."""
from __future__ import annotations

import os
import stat

import pytest

from dockyard.image.layer import LayerError, apply_tar, clean_parts


def test_files_dirs_symlinks_hardlinks_and_metadata(tmp_path, kit):
    t = (kit().dir("etc", mode=0o750).file("etc/a", b"hello", mode=0o640, mtime=1_500_000_000)
         .sym("etc/l", "a").link("etc/h", "etc/a").file("bin/x", b"#!", mode=0o755))
    size = apply_tar(t.stream(), str(tmp_path))
    assert size == 7
    assert (tmp_path / "etc/a").read_bytes() == b"hello"
    assert stat.S_IMODE(os.stat(tmp_path / "etc/a").st_mode) == 0o640
    assert stat.S_IMODE(os.stat(tmp_path / "etc").st_mode) == 0o750
    assert os.stat(tmp_path / "etc/a").st_mtime == 1_500_000_000
    assert os.readlink(tmp_path / "etc/l") == "a"
    assert os.stat(tmp_path / "etc/h").st_ino == os.stat(tmp_path / "etc/a").st_ino
    assert os.access(tmp_path / "bin/x", os.X_OK)  # parent created implicitly


def test_directory_mtimes_survive_their_children(tmp_path, kit):
    apply_tar(kit().dir("d", mtime=1_234_567_890).file("d/f", b"x").stream(), str(tmp_path))
    assert os.stat(tmp_path / "d").st_mtime == 1_234_567_890


def test_later_entry_replaces_earlier(tmp_path, kit):
    t = kit().file("x", b"one").dir("d").file("d/f", b"1").file("x", b"two").file("d", b"now a file")
    apply_tar(t.stream(), str(tmp_path))
    assert (tmp_path / "x").read_bytes() == b"two"
    assert (tmp_path / "d").read_bytes() == b"now a file"


@pytest.mark.parametrize("name,parts", [
    ("./a/b", ["a", "b"]), ("/abs/x", ["abs", "x"]), ("a/../b", ["b"]), ("./", []),
    ("a//b/.", ["a", "b"]),
])
def test_clean_parts_contains_names(name, parts):
    assert clean_parts(name) == parts


@pytest.mark.parametrize("name", ["../x", "a/../../x", "/../../etc/passwd"])
def test_dotdot_escape_is_rejected_with_the_member_name(tmp_path, kit, name):
    with pytest.raises(LayerError, match="escapes the target"):
        apply_tar(kit().file(name, b"pwned").stream(), str(tmp_path / "root"))


def test_absolute_names_are_contained(tmp_path, kit):
    outside = tmp_path / "outside"
    root = tmp_path / "root"
    root.mkdir()
    apply_tar(kit().file(str(outside / "f"), b"x").stream(), str(root))
    assert not outside.exists()
    assert (root / str(outside / "f").lstrip("/")).read_bytes() == b"x"


def test_write_through_symlinked_parent_is_rejected(tmp_path, kit):
    outside, root = tmp_path / "outside", tmp_path / "root"
    outside.mkdir()
    root.mkdir()
    t = kit().sym("evil", str(outside)).file("evil/pwned", b"x")
    with pytest.raises(LayerError, match=r"'evil/pwned'.*symlink"):
        apply_tar(t.stream(), str(root))
    assert not (outside / "pwned").exists()


def test_relative_symlink_out_then_file_is_rejected(tmp_path, kit):
    root = tmp_path / "root"
    root.mkdir()
    t = kit().sym("up", "../../../../..").file("up/tmp/pwned", b"x")
    with pytest.raises(LayerError):
        apply_tar(t.stream(), str(root))


def test_symlink_itself_may_point_anywhere(tmp_path, kit):
    """A symlink is data: only writing *through* it is dangerous."""
    apply_tar(kit().sym("etc-link", "/etc").stream(), str(tmp_path))
    assert os.readlink(tmp_path / "etc-link") == "/etc"


def test_final_symlink_is_replaced_not_followed(tmp_path, kit):
    outside, root = tmp_path / "outside", tmp_path / "root"
    outside.write_text("host")
    root.mkdir()
    apply_tar(kit().sym("f", str(outside)).file("f", b"layer").stream(), str(root))
    assert outside.read_text() == "host"
    assert (root / "f").read_bytes() == b"layer" and not (root / "f").is_symlink()


@pytest.mark.parametrize("target", ["../../outside", "/../outside-abs/../../x"])
def test_hardlink_escape_is_rejected(tmp_path, kit, target):
    root = tmp_path / "root"
    root.mkdir()
    with pytest.raises(LayerError):
        apply_tar(kit().link("hl", target).stream(), str(root))


def test_hardlink_through_symlink_is_rejected(tmp_path, kit):
    outside, root = tmp_path / "outside", tmp_path / "root"
    outside.mkdir()
    (outside / "secret").write_text("s")
    root.mkdir()
    t = kit().sym("d", str(outside)).link("hl", "d/secret")
    with pytest.raises(LayerError, match="hardlink"):
        apply_tar(t.stream(), str(root))
    assert os.stat(outside / "secret").st_nlink == 1


def test_absolute_hardlink_target_is_inside(tmp_path, kit):
    apply_tar(kit().file("a", b"x").link("b", "/a").stream(), str(tmp_path))
    assert os.stat(tmp_path / "b").st_ino == os.stat(tmp_path / "a").st_ino


def test_parent_symlink_in_lower_layer_is_rejected(tmp_path, kit):
    lower, upper, outside = tmp_path / "lower", tmp_path / "upper", tmp_path / "outside"
    for d in (lower, upper, outside):
        d.mkdir()
    os.symlink(str(outside), lower / "bin")
    with pytest.raises(LayerError, match="lower layer"):
        apply_tar(kit().file("bin/x", b"x").stream(), str(upper), [str(lower)])
    assert not (outside / "x").exists()


def test_implicit_parent_copies_lower_metadata(tmp_path, kit):
    lower, upper = tmp_path / "lower", tmp_path / "upper"
    (lower / "opt").mkdir(parents=True)
    os.chmod(lower / "opt", 0o711)
    upper.mkdir()
    apply_tar(kit().file("opt/f", b"x").stream(), str(upper), [str(lower)])
    assert stat.S_IMODE(os.stat(upper / "opt").st_mode) == 0o711


def test_truncated_tar_names_the_member(tmp_path, kit):
    data = kit().file("big", b"x" * 5000).bytes()
    import io
    with pytest.raises(LayerError, match="truncated|corrupt"):
        apply_tar(io.BytesIO(data[:2048]), str(tmp_path))


def test_garbage_is_not_a_tar(tmp_path):
    import io
    with pytest.raises(LayerError):
        apply_tar(io.BytesIO(b"this is not a tar archive at all" * 40), str(tmp_path))
