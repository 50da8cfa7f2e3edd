"""The lean tar reader against what tarfile writes in every format."""
from __future__ import annotations

import io
import tarfile

import pytest

from dockyard.image.tarstream import TarFormatError, TarStream


def _tar(fmt, members):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=fmt) as tf:
        for ti, data in members:
            tf.addfile(ti, io.BytesIO(data) if data is not None else None)
    return buf.getvalue()


def _ti(name, **kw):
    ti = tarfile.TarInfo(name)
    for k, v in kw.items():
        setattr(ti, k, v)
    return ti


def _read(data):
    ts = TarStream(io.BytesIO(data), chunk=4096)
    out = []
    for m in ts:
        out.append((m, ts.read_data(m.size) if m.isreg() else None))
    return out


@pytest.mark.parametrize("fmt", [tarfile.USTAR_FORMAT, tarfile.GNU_FORMAT, tarfile.PAX_FORMAT])
def test_formats_round_trip(fmt):
    long = "d/" + "x" * 150 if fmt != tarfile.USTAR_FORMAT else "d/" + "y" * 90
    members = [(_ti("d", type=tarfile.DIRTYPE, mode=0o755), None),
               (_ti(long, size=5, mode=0o640, uid=7, gid=8, mtime=1234), b"hello"),
               (_ti("d/l", type=tarfile.SYMTYPE, linkname="../" + "t" * 120 if fmt != tarfile.USTAR_FORMAT else "t"), None),
               (_ti("d/h", type=tarfile.LNKTYPE, linkname=long), None),
               (_ti("d/c", type=tarfile.CHRTYPE, devmajor=1, devminor=3), None)]
    got = _read(_tar(fmt, members))
    assert [m.name.rstrip("/") for m, _ in got] == ["d", long, "d/l", "d/h", "d/c"]
    m, data = got[1]
    assert data == b"hello" and (m.mode, m.uid, m.gid, m.mtime) == (0o640, 7, 8, 1234)
    assert got[2][0].issym() and got[2][0].linkname == members[2][0].linkname
    assert got[3][0].islnk() and got[3][0].linkname == long
    assert got[4][0].ischr() and (got[4][0].devmajor, got[4][0].devminor) == (1, 3)


def test_pax_xattrs_and_big_ids():
    ti = _ti("f", size=1, uid=3_000_000, pax_headers={"SCHILY.xattr.user.k": "v"})
    [(m, data)] = _read(_tar(tarfile.PAX_FORMAT, [(ti, b"z")]))
    assert m.uid == 3_000_000 and m.pax_headers["SCHILY.xattr.user.k"] == "v" and data == b"z"


def test_gnu_base256_uid():
    [(m, _)] = _read(_tar(tarfile.GNU_FORMAT, [(_ti("f", uid=1 << 24), b"")]))
    assert m.uid == 1 << 24


def test_bad_checksum():
    data = bytearray(_tar(tarfile.USTAR_FORMAT, [(_ti("f", size=1), b"x")]))
    data[0] ^= 0xFF
    with pytest.raises(TarFormatError, match="checksum"):
        _read(bytes(data))


def test_truncated_data():
    data = _tar(tarfile.USTAR_FORMAT, [(_ti("f", size=4000), b"x" * 4000)])
    with pytest.raises(TarFormatError, match="truncated"):
        _read(data[:1500])


def test_empty_stream():
    with pytest.raises(TarFormatError, match="empty"):
        _read(b"")
