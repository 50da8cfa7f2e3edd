"""Killing dockyardd in the middle of a load: the next start finds the whole image or none."""
from __future__ import annotations

import os
import signal
import socket
import time

import pytest

pytestmark = pytest.mark.root


def _blobs(data_root: str) -> set[str]:
    return set(os.listdir(os.path.join(data_root, "content", "blobs", "sha256")))


def _save_busybox(daemon, path: str) -> bytes:
    """busybox saved, with a 64 KiB filler entry after the layer: the loader reads ahead,
    so the layer blob is only stored once some bytes after it have arrived."""
    import io
    import tarfile
    r = daemon.docker("save", "-o", path + ".orig", "busybox:latest")
    assert r.returncode == 0, r.stderr
    with tarfile.open(path + ".orig") as tin, tarfile.open(path, "w") as tout:
        for m in tin:
            tout.addfile(m, tin.extractfile(m) if m.isreg() else None)
            if m.name.endswith("layer.tar"):
                filler = tarfile.TarInfo("filler.bin")
                filler.size = 65536
                tout.addfile(filler, io.BytesIO(b"\0" * 65536))
    return open(path, "rb").read()


def _send_partial_load(sock_path: str, data: bytes, upto: int) -> socket.socket:
    s = socket.socket(socket.AF_UNIX)
    s.connect(sock_path)
    s.sendall(b"POST /v1.43/images/load?quiet=1 HTTP/1.1\r\nHost: d\r\n"
              b"Content-Type: application/x-tar\r\n"
              + f"Content-Length: {len(data)}\r\n\r\n".encode())
    s.sendall(data[:upto])
    return s


def _cut_points(path: str) -> dict[str, int]:
    """Mid-layer, and mid-filler (the layer blob stored, manifest.json not yet sent)."""
    import tarfile
    with tarfile.open(path) as tf:
        members = {m.name: m for m in tf}
    layer = next(m for n, m in members.items() if n.endswith("layer.tar"))
    return {"mid-layer": layer.offset_data + layer.size // 2,
            "after-layer": members["filler.bin"].offset_data + 32768}


@pytest.mark.parametrize("where", ["mid-layer", "after-layer"])
def test_kill_during_load_leaves_store_consistent(fresh_daemon, tmp_path, where):
    d = fresh_daemon
    data = _save_busybox(d, str(tmp_path / "bb.tar"))
    upto = _cut_points(str(tmp_path / "bb.tar"))[where]
    d.cli("rmi", "busybox:latest", check=True)
    before = _blobs(d.data_root)
    s = _send_partial_load(d.socket, data, upto)
    try:
        time.sleep(1.0)  # the daemon stores what it got, then waits for the rest
        if where == "after-layer":  # the layer blob is in the store, under a lease
            assert _blobs(d.data_root) - before
            assert os.listdir(os.path.join(d.data_root, "images", "leases"))
        d.proc.send_signal(signal.SIGKILL)
        d.proc.wait(10)
        d.proc = None
    finally:
        s.close()
    d.start()
    assert d.client.get("/images/json", {"all": 1}) == []
    assert _blobs(d.data_root) == before
    assert os.listdir(os.path.join(d.data_root, "images", "leases")) == []
    active = os.path.join(d.data_root, "snapshots", "a")
    assert os.listdir(active) == [] and os.listdir(os.path.join(d.data_root, "snapshots", "tmp")) == []
    # and the archive still loads completely afterwards
    r = d.cli("load", "-i", str(tmp_path / "bb.tar"))
    assert r.returncode == 0 and "Loaded image: busybox:latest" in r.stdout
