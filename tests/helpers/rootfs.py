"""Test base images made on this machine: a busybox rootfs from Debian's busybox-static."""
from __future__ import annotations

import io
import os
import subprocess
import tarfile
import time

BUSYBOX = "/bin/busybox"


def busybox_applets() -> list[str]:
    out = subprocess.run([BUSYBOX, "--list-full"], check=True, capture_output=True, text=True)
    return [line.strip() for line in out.stdout.splitlines() if line.strip()]


def _dir(tf: tarfile.TarFile, name: str, mode: int = 0o755) -> None:
    ti = tarfile.TarInfo(name)
    ti.type, ti.mode, ti.mtime = tarfile.DIRTYPE, mode, int(time.time())
    tf.addfile(ti)


def _file(tf: tarfile.TarFile, name: str, data: bytes, mode: int = 0o644) -> None:
    ti = tarfile.TarInfo(name)
    ti.size, ti.mode, ti.mtime = len(data), mode, int(time.time())
    tf.addfile(ti, io.BytesIO(data))


def write_busybox_tar(path: str) -> str:
    """A minimal rootfs: /bin/busybox, its applet links, /etc/passwd and group, tmp."""
    tmp = path + ".tmp"
    with tarfile.open(tmp, "w") as tf:
        for d in ("bin", "sbin", "usr", "usr/bin", "usr/sbin", "etc", "root", "home",
                  "var", "var/www", "dev", "proc", "sys"):
            _dir(tf, d)
        _dir(tf, "tmp", 0o1777)
        tf.add(BUSYBOX, "bin/busybox")
        seen = {"bin/busybox"}
        for applet in busybox_applets():
            rel = applet.lstrip("/")
            if rel in seen:
                continue
            seen.add(rel)
            ti = tarfile.TarInfo(rel)
            ti.type, ti.linkname, ti.mode = tarfile.SYMTYPE, "/bin/busybox", 0o777
            tf.addfile(ti)
        _file(tf, "etc/passwd", b"root:x:0:0:root:/root:/bin/sh\n"
              b"nobody:x:65534:65534:nobody:/home:/bin/false\n")
        _file(tf, "etc/group", b"root:x:0:\nnogroup:x:65534:\n")
    os.replace(tmp, path)
    return path
