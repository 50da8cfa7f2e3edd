"""OCI whiteouts ↔ overlay format, and the upper dir → layer tar diff."""
from __future__ import annotations

import hashlib
import io
import os
import stat
import tarfile

import pytest

from dockyard.image.diff import write_diff
from dockyard.image.layer import OPAQUE_XATTR, LayerError, apply_tar

EMPTY_LAYER = "5f70bf18a086007016e948b04aed3b82103a36bea41755b6cddfaf10ace3c6ef"


def _is_whiteout(path) -> bool:
    st = os.lstat(path)
    return stat.S_ISCHR(st.st_mode) and st.st_rdev == 0


@pytest.mark.root
def test_whiteout_becomes_char_device(tmp_path, kit):
    apply_tar(kit().dir("etc").file("etc/.wh.group").stream(), str(tmp_path))
    assert _is_whiteout(tmp_path / "etc/group")
    assert not (tmp_path / "etc/.wh.group").exists()


@pytest.mark.root
def test_opaque_dir_gets_overlay_xattr(tmp_path, kit):
    apply_tar(kit().dir("data").file("data/.wh..wh..opq").file("data/new", b"n").stream(),
              str(tmp_path))
    assert os.getxattr(tmp_path / "data", OPAQUE_XATTR) == b"y"
    assert (tmp_path / "data/new").read_bytes() == b"n"


@pytest.mark.root
def test_whiteout_never_hides_its_own_layer(tmp_path, kit):
    apply_tar(kit().file("f", b"mine").file(".wh.f").stream(), str(tmp_path))
    assert (tmp_path / "f").read_bytes() == b"mine"


@pytest.mark.parametrize("name", ["../.wh.x", "a/../../.wh.etc"])
def test_whiteout_outside_target_is_rejected(tmp_path, kit, name):
    with pytest.raises(LayerError, match="escapes"):
        apply_tar(kit().file(name).stream(), str(tmp_path / "root"))


def test_layer_cannot_forge_overlay_xattrs(tmp_path, kit):
    t = kit().file("f", b"x", pax_headers={"SCHILY.xattr.trusted.overlay.opaque": "y"})
    apply_tar(t.stream(), str(tmp_path))
    with pytest.raises(OSError):
        os.getxattr(tmp_path / "f", OPAQUE_XATTR)


def test_empty_dir_diff_is_dockers_empty_layer(tmp_path):
    out = io.BytesIO()
    write_diff(str(tmp_path), out)
    assert hashlib.sha256(out.getvalue()).hexdigest() == EMPTY_LAYER


def _tree(root):
    out = {}
    for dirpath, dirs, files in os.walk(root):
        for n in dirs + files:
            p = os.path.join(dirpath, n)
            st = os.lstat(p)
            rel = os.path.relpath(p, root)
            data = open(p, "rb").read() if stat.S_ISREG(st.st_mode) else None
            link = os.readlink(p) if stat.S_ISLNK(st.st_mode) else None
            out[rel] = (stat.S_IFMT(st.st_mode), stat.S_IMODE(st.st_mode), data, link,
                        int(st.st_mtime) if not stat.S_ISDIR(st.st_mode) else None)
    return out


def test_diff_round_trip_is_stable(tmp_path, kit):
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir()
    b.mkdir()
    t = kit().dir("d").file("d/f", b"data", mode=0o600).sym("d/l", "f").link("d/h", "d/f")
    apply_tar(t.stream(), str(a))
    first = io.BytesIO()
    write_diff(str(a), first)
    apply_tar(io.BytesIO(first.getvalue()), str(b))
    second = io.BytesIO()
    write_diff(str(b), second)
    assert _tree(a) == _tree(b)
    assert first.getvalue() == second.getvalue()
    names = [m.name for m in tarfile.open(fileobj=io.BytesIO(first.getvalue()))]
    assert names == sorted(names, key=lambda n: n.rstrip("/").split("/")) or "d/" in names[0]


@pytest.mark.root
def test_diff_turns_overlay_markers_into_oci_whiteouts(tmp_path):
    (tmp_path / "gone").parent.mkdir(exist_ok=True)
    os.mknod(tmp_path / "gone", stat.S_IFCHR | 0o600, os.makedev(0, 0))
    (tmp_path / "opq").mkdir()
    os.setxattr(tmp_path / "opq", OPAQUE_XATTR, b"y")
    out = io.BytesIO()
    write_diff(str(tmp_path), out)
    names = [m.name for m in tarfile.open(fileobj=io.BytesIO(out.getvalue()))]
    assert ".wh.gone" in names and "opq/.wh..wh..opq" in names
    assert all("trusted.overlay" not in str(m.pax_headers)
               for m in tarfile.open(fileobj=io.BytesIO(out.getvalue())))
