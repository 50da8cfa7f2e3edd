"""write_diff builds plain headers by hand: its bytes must stay exactly tarfile's PAX output."""
from __future__ import annotations

import io
import os
import stat
import tarfile

import pytest

from dockyard.image.diff import header, write_diff


def _reference(root: str) -> bytes:
    """The layer tar as tarfile writes it (what write_diff produced before it was sped up);
    a tree without overlay markers."""
    buf = io.BytesIO()
    tf = tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT)
    seen: dict = {}
    for dirpath, dirs, files in os.walk(root):
        dirs.sort()
        for name in sorted(dirs + files):
            path = os.path.join(dirpath, name)
            rel = os.path.relpath(path, root)
            st = os.lstat(path)
            ti = tarfile.TarInfo(rel)
            ti.mode, ti.uid, ti.gid = stat.S_IMODE(st.st_mode), st.st_uid, st.st_gid
            ti.mtime, ti.uname, ti.gname = int(st.st_mtime), "", ""
            ti.pax_headers = {"SCHILY.xattr." + x: os.getxattr(path, x, follow_symlinks=False)
                              .decode("utf-8", "surrogateescape")
                              for x in sorted(os.listxattr(path, follow_symlinks=False))}
            key = (st.st_dev, st.st_ino)
            if not stat.S_ISDIR(st.st_mode) and st.st_nlink > 1 and key in seen:
                ti.type, ti.linkname = tarfile.LNKTYPE, seen[key]
                tf.addfile(ti)
                continue
            seen.setdefault(key, rel)
            if stat.S_ISREG(st.st_mode):
                ti.size = st.st_size
                with open(path, "rb") as f:
                    tf.addfile(ti, f)
            elif stat.S_ISDIR(st.st_mode):
                ti.type = tarfile.DIRTYPE
                tf.addfile(ti)
            elif stat.S_ISLNK(st.st_mode):
                ti.type, ti.linkname = tarfile.SYMTYPE, os.readlink(path)
                tf.addfile(ti)
    tf.fileobj.write(tarfile.NUL * 1024)  # Go's ending: no padding to a 10 KiB record
    return buf.getvalue()


def _tree(root) -> None:
    (root / "d/sub").mkdir(parents=True)
    (root / "d/f").write_bytes(b"hi\n")
    os.link(root / "d/f", root / "d/hard")
    os.symlink("f", root / "d/sym")
    os.symlink("x" * 150, root / "d/longlink")
    (root / ("n" * 120)).write_bytes(b"")
    (root / "ünï").mkdir()
    (root / "ünï/file").write_bytes(b"u")
    (root / os.fsdecode(b"bad\xff")).write_bytes(b"z")
    (root / "big").write_bytes(os.urandom(3 << 20) + b"tail")  # > one read chunk
    (root / "odd").write_bytes(b"x" * 513)
    (root / "d/sub/old").write_bytes(b"o")
    os.utime(root / "d/sub/old", (5, 5))
    os.chmod(root / "odd", 0o4755)
    try:
        os.setxattr(root / "d/f", "user.note", b"\xff\x00v")
    except OSError:
        pass  # a filesystem without user xattrs: the rest still counts


def test_bytes_equal_tarfiles_pax_output(tmp_path):
    _tree(tmp_path)
    out = io.BytesIO()
    size = write_diff(str(tmp_path), out)
    assert out.getvalue() == _reference(str(tmp_path))
    assert size == 3 + 1 + 1 + (3 << 20) + 4 + 513 + 1  # hard link and dirs not counted


@pytest.mark.parametrize("name,kw", [
    ("plain", {}), ("dir/", {"kind": b"5"}), ("l", {"kind": b"2", "linkname": "t" * 100}),
    ("p" * 101, {}), ("é", {}), ("big", {"size": 8 ** 11}), ("neg", {"mtime": -1}),
    ("uid", {"uid": 8 ** 7}), ("x", {"pax": {"SCHILY.xattr.user.a": "b"}}),
    ("dev", {"kind": b"3", "dev": (1, 3)}),
])
def test_header_matches_tarfile(name, kw):
    args = dict(mode=0o644, uid=0, gid=0, size=0, mtime=1_700_000_000, kind=b"0")
    args.update(kw)
    ti = tarfile.TarInfo(name.rstrip("/"))
    ti.mode, ti.uid, ti.gid, ti.size, ti.mtime = (args["mode"], args["uid"], args["gid"],
                                                  args["size"], args["mtime"])
    ti.type, ti.linkname, ti.uname, ti.gname = args["kind"], kw.get("linkname", ""), "", ""
    if "dev" in kw:
        ti.devmajor, ti.devminor = kw["dev"]
    ti.pax_headers = dict(kw.get("pax", {}))
    expected = ti.tobuf(tarfile.PAX_FORMAT, tarfile.ENCODING, "strict")
    assert header(name, args["mode"], args["uid"], args["gid"], args["size"], args["mtime"],
                  args["kind"], kw.get("linkname", ""), kw.get("dev"), kw.get("pax")) == expected
