"""Killing dockyardd in the middle of an import (while spooling the body, while unpacking
the spooled blob): the next start finds the whole image or none, and no leftovers."""
from __future__ import annotations

import io
import os
import signal
import socket
import tarfile
import time

import pytest

pytestmark = pytest.mark.root


def _many_files_tar(path: str, n: int = 20000) -> bytes:
    with tarfile.open(path, "w") as tf:
        for d in range(20):
            ti = tarfile.TarInfo(f"d{d}")
            ti.type = tarfile.DIRTYPE
            ti.mode = 0o755
            tf.addfile(ti)
        for i in range(n):
            ti = tarfile.TarInfo(f"d{i % 20}/f{i}")
            ti.size = 1
            tf.addfile(ti, io.BytesIO(b"x"))
    return open(path, "rb").read()


def _send_import(sock_path: str, data: bytes, upto: int) -> socket.socket:
    s = socket.socket(socket.AF_UNIX)
    s.connect(sock_path)
    s.sendall(b"POST /v1.43/images/create?fromSrc=-&repo=crash&tag=1 HTTP/1.1\r\nHost: d\r\n"
              b"Content-Type: application/x-tar\r\n"
              + f"Content-Length: {len(data)}\r\n\r\n".encode())
    s.sendall(data[:upto])
    return s


def _state(root: str):
    return (sorted(os.listdir(os.path.join(root, "content", "blobs", "sha256"))),
            sorted(os.listdir(os.path.join(root, "snapshots", "c"))))


def _wait_for(cond, what: str, timeout: float = 60) -> None:
    end = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > end:
            raise AssertionError(f"gave up waiting for {what}")
        time.sleep(0.002)


@pytest.mark.parametrize("where", ["spooling", "unpacking"])
def test_kill_during_import_leaves_store_consistent(fresh_daemon, tmp_path, where):
    d = fresh_daemon
    data = _many_files_tar(str(tmp_path / "many.tar"))
    before = _state(d.data_root)
    ingest = os.path.join(d.data_root, "content", "ingest")
    active = os.path.join(d.data_root, "snapshots", "a")
    s = _send_import(d.socket, data, len(data) // 2 if where == "spooling" else len(data))
    try:
        if where == "spooling":  # half the body is in the ingest file, the rest never comes
            _wait_for(lambda: any(os.path.getsize(os.path.join(ingest, f)) >= len(data) // 4
                                  for f in os.listdir(ingest)), "the spool file to grow")
        else:  # the whole body arrived; files are being created in a scratch snapshot
            def unpacking():
                for a in os.listdir(active):
                    fs = os.path.join(active, a, "fs")
                    if os.path.isdir(fs) and len(os.listdir(fs)) >= 5:
                        return True
                return False
            _wait_for(unpacking, "the unpack to start")
        d.proc.send_signal(signal.SIGKILL)
        d.proc.wait(10)
        d.proc = None
    finally:
        s.close()
    d.start()
    assert "crash:1" not in d.cli("images", "--format", "{{.Repository}}:{{.Tag}}").stdout
    assert _state(d.data_root) == before
    assert os.listdir(ingest) == []
    assert os.listdir(os.path.join(d.data_root, "images", "leases")) == []
    assert os.listdir(active) == [] and os.listdir(os.path.join(d.data_root, "snapshots", "tmp")) == []
    # and the tar imports completely afterwards, runnable at once
    r = d.cli("import", str(tmp_path / "many.tar"), "crash:1")
    assert r.returncode == 0, r.stderr
    assert "crash:1" in d.cli("images", "--format", "{{.Repository}}:{{.Tag}}").stdout
