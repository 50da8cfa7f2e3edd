"""Helpers for layer tests: build tar archives in memory, member by member."""
from __future__ import annotations

import io
import os
import tarfile

import pytest


class TarKit:
    """``kit.file("a", b"x")``, ``kit.dir("d")``, ``kit.sym("l", "t")`` … then ``kit.stream()``."""

    def __init__(self):
        self.buf = io.BytesIO()
        self.tf = tarfile.open(fileobj=self.buf, mode="w", format=tarfile.PAX_FORMAT)

    def _add(self, name, type_, data=None, **kw) -> "TarKit":
        ti = tarfile.TarInfo(name)
        ti.type = type_
        ti.mode = kw.pop("mode", 0o644 if type_ == tarfile.REGTYPE else 0o755)
        ti.uid, ti.gid = kw.pop("uid", os.geteuid()), kw.pop("gid", os.getegid())
        ti.mtime = kw.pop("mtime", 1_600_000_000)
        for k, v in kw.items():
            setattr(ti, k, v)
        if data is not None:
            ti.size = len(data)
        self.tf.addfile(ti, io.BytesIO(data) if data is not None else None)
        return self

    def file(self, name, data=b"", **kw):
        return self._add(name, tarfile.REGTYPE, data, **kw)

    def dir(self, name, **kw):
        return self._add(name, tarfile.DIRTYPE, **kw)

    def sym(self, name, target, **kw):
        return self._add(name, tarfile.SYMTYPE, linkname=target, **kw)

    def link(self, name, target, **kw):
        return self._add(name, tarfile.LNKTYPE, linkname=target, **kw)

    def bytes(self) -> bytes:
        self.tf.close()
        return self.buf.getvalue()

    def stream(self) -> io.BytesIO:
        return io.BytesIO(self.bytes())


@pytest.fixture
def kit():
    return TarKit
