"""The inputs every engine gets, made by the suite and cached in ~/.cache/dockyard-bench.

- bb.tar:   a busybox rootfs (Debian's /bin/busybox and its applet links), ≈ 2 MB.
- web.tar:  bb plus /www/index.html, served by busybox httpd (S2).
- deb.tar:  Debian 12 minbase from ``mmdebstrap --variant=minbase bookworm`` (≈ 200 MB).
- ctx-s3/, ctx-s5/: the build contexts and Dockerfiles of S3-S6.

The tars are written to a temporary name and renamed, so an interrupted run never leaves
a half-made input that a later run would trust.
"""
from __future__ import annotations

import io
import os
import random
import subprocess
import tarfile

CACHE = os.path.expanduser(os.environ.get("DOCKYARD_BENCH_CACHE", "~/.cache/dockyard-bench"))
BUSYBOX = "/bin/busybox"
MTIME = 1_700_000_000  # fixed, so the same tar (and layer digest) comes out every time

S3_DOCKERFILE = """\
FROM bench-bb
LABEL org.dockyard.bench="s3"
ADD files /app/files
WORKDIR /app
RUN echo built > stamp && ls files > list
EXPOSE 8080
CMD ["httpd", "-f", "-p", "8080", "-h", "/app"]
"""

S5_DOCKERFILE = """\
FROM bench-deb
ENV APP_HOME=/srv/app LANG=C.UTF-8
COPY data /srv/app/data
WORKDIR /srv/app
RUN dd if=/dev/urandom of=/srv/app/blob bs=1M count=50 status=none
RUN useradd -m -u 1000 app
USER app
CMD ["sh", "-c", "ls /srv/app"]
"""


def path(name: str) -> str:
    os.makedirs(CACHE, exist_ok=True)
    return os.path.join(CACHE, name)


def _add(tf: tarfile.TarFile, name: str, kind: bytes, mode: int, data: bytes = b"",
         link: str = "") -> None:
    ti = tarfile.TarInfo(name)
    ti.type, ti.mode, ti.mtime, ti.linkname = kind, mode, MTIME, link
    ti.size = len(data)
    tf.addfile(ti, io.BytesIO(data) if data else None)


def _busybox_rootfs(tf: tarfile.TarFile) -> None:
    for d in ("bin", "sbin", "usr", "usr/bin", "usr/sbin", "etc", "root", "home", "var",
              "www", "dev", "proc", "sys"):
        _add(tf, d, tarfile.DIRTYPE, 0o755)
    _add(tf, "tmp", tarfile.DIRTYPE, 0o1777)
    with open(BUSYBOX, "rb") as f:
        _add(tf, "bin/busybox", tarfile.REGTYPE, 0o755, f.read())
    applets = subprocess.run([BUSYBOX, "--list-full"], capture_output=True, text=True,
                             check=True).stdout.split()
    for rel in sorted({a.lstrip("/") for a in applets} - {"bin/busybox"}):
        _add(tf, rel, tarfile.SYMTYPE, 0o777, link="/bin/busybox")
    _add(tf, "etc/passwd", tarfile.REGTYPE, 0o644,
         b"root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/home:/bin/false\n")
    _add(tf, "etc/group", tarfile.REGTYPE, 0o644, b"root:x:0:\nnogroup:x:65534:\n")


def _write_tar(dest: str, fill) -> str:
    tmp = dest + ".tmp"
    with tarfile.open(tmp, "w") as tf:
        fill(tf)
    os.replace(tmp, dest)
    return dest


def busybox_tar() -> str:
    """The cached busybox rootfs tar (made on first use)."""
    dest = path("bb.tar")
    return dest if os.path.exists(dest) else _write_tar(dest, _busybox_rootfs)


def web_tar() -> str:
    """busybox plus a page for busybox httpd in /www."""
    dest = path("web.tar")
    if os.path.exists(dest):
        return dest

    def fill(tf):
        _busybox_rootfs(tf)
        _add(tf, "www/index.html", tarfile.REGTYPE, 0o644, b"<h1>dockyard bench</h1>\n")
    return _write_tar(dest, fill)


def debian_tar(log=print) -> str:
    """The cached Debian 12 minbase rootfs tar, from Debian's packages (≈ 40 s once)."""
    dest = path("deb.tar")
    if os.path.exists(dest):
        return dest
    if not os.path.exists("/usr/bin/mmdebstrap"):
        raise RuntimeError("mmdebstrap is not installed (apt-get install mmdebstrap)")
    log("inputs: building the Debian 12 minbase rootfs with mmdebstrap (once, ~1 min)")
    tmp = dest + ".tmp.tar"
    proc = subprocess.run(["mmdebstrap", "--quiet", "--variant=minbase", "--mode=root",
                           "bookworm", tmp], capture_output=True, text=True)
    if proc.returncode != 0:
        _unlink(tmp)
        raise RuntimeError(f"mmdebstrap failed: {proc.stderr.strip()[-300:]}")
    os.replace(tmp, dest)
    return dest


def _unlink(p: str) -> None:
    try:
        os.unlink(p)
    except FileNotFoundError:
        pass


def context_s3() -> str:
    """S3/S4: a small context, a 7-step Dockerfile on bench-bb."""
    root = path("ctx-s3")
    files = os.path.join(root, "files")
    os.makedirs(files, exist_ok=True)
    rng = random.Random(3)
    for i in range(20):
        _write_if_changed(os.path.join(files, f"f{i:02d}.txt"), rng.randbytes(2048))
    _write_if_changed(os.path.join(root, "Dockerfile"), S3_DOCKERFILE.encode())
    return root


def context_s5() -> str:
    """S5/S6: 2,000 files of 10 KiB (20 MB) copied onto Debian, then RUN steps."""
    root = path("ctx-s5")
    data = os.path.join(root, "data")
    rng = random.Random(5)
    for d in range(20):
        sub = os.path.join(data, f"d{d:02d}")
        os.makedirs(sub, exist_ok=True)
        for i in range(100):
            _write_if_changed(os.path.join(sub, f"f{i:03d}.bin"), rng.randbytes(10240))
    _write_if_changed(os.path.join(root, "Dockerfile"), S5_DOCKERFILE.encode())
    return root


def touch_one_file(ctx: str, stamp: str) -> None:
    """S6: change the content of one copied file, so COPY and every later step rebuild."""
    with open(os.path.join(ctx, "data", "d00", "f000.bin"), "wb") as f:
        f.write(stamp.encode() * 100)


def _write_if_changed(p: str, data: bytes) -> None:
    # Rewriting identical files would change mtimes; some builders hash mtimes.
    try:
        with open(p, "rb") as f:
            if f.read() == data:
                return
    except FileNotFoundError:
        pass
    with open(p, "wb") as f:
        f.write(data)
