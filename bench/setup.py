"""What the suite installs for itself: the peers (apt-get) and its plotting dependency."""
from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import tomllib

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

PEER_PACKAGES = {
    "docker": ["docker.io"],
    "podman": ["podman", "netavark", "aardvark-dns", "conmon", "runc"],
}
PEER_BINARIES = {"docker": "/usr/sbin/dockerd", "podman": "/usr/bin/podman"}


def missing_packages(names: list[str]) -> list[str]:
    out = []
    for name in names:
        proc = subprocess.run(["dpkg-query", "-W", "-f=${Status}", name],
                              capture_output=True, text=True)
        if "ok installed" not in proc.stdout:
            out.append(name)
    return out


def install_peers(peers: list[str], log=print) -> None:
    """apt-get the peers' Debian packages that are missing (no recommends: no extras)."""
    wanted = [p for peer in peers for p in PEER_PACKAGES.get(peer, [])]
    todo = missing_packages(wanted)
    if not todo:
        return
    log(f"setup: installing {' '.join(todo)} with apt-get")
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    subprocess.run(["apt-get", "update", "-qq"], env=env, check=True, capture_output=True)
    proc = subprocess.run(["apt-get", "install", "-y", "-qq", "--no-install-recommends", *todo],
                          env=env, capture_output=True, text=True)
    if proc.returncode != 0:
        raise SystemExit(f"bench: apt-get install {' '.join(todo)} failed: "
                         f"{proc.stderr.strip()[-300:]}")
    # Debian starts docker.io's own dockerd on install; the suite runs its own instead.
    if "docker.io" in todo:
        subprocess.run(["systemctl", "disable", "--now", "docker.service", "docker.socket"],
                       capture_output=True)


def bench_requirements() -> list[str]:
    """The ``bench`` optional-dependency group of pyproject.toml."""
    with open(os.path.join(REPO, "pyproject.toml"), "rb") as f:
        meta = tomllib.load(f)
    return meta["project"].get("optional-dependencies", {}).get("bench", [])


def ensure_bench_deps(log=print) -> None:
    """pip-install the ``bench`` group into this interpreter's venv when it is missing."""
    pyspy = os.path.join(os.path.dirname(sys.executable), "py-spy")
    if importlib.util.find_spec("matplotlib") is not None and os.path.exists(pyspy):
        return
    reqs = bench_requirements()
    if not reqs:
        return
    log(f"setup: installing {' '.join(reqs)} into {sys.prefix}")
    proc = subprocess.run([sys.executable, "-m", "pip", "install", "-q", *reqs],
                          capture_output=True, text=True)
    if proc.returncode != 0:
        log(f"setup: pip install failed, no plot this time: {proc.stderr.strip()[-200:]}")
    importlib.invalidate_caches()
