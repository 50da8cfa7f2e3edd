"""Fixtures for image store tests: an in-process engine on a temporary data root."""
from __future__ import annotations

import subprocess

import pytest

from tests.helpers.daemon import detach_mounts_under


@pytest.fixture
def engine(tmp_path):
    from dockyard.engine import Engine
    e = Engine(str(tmp_path / "data"), str(tmp_path / "run"))
    try:
        yield e
    finally:
        e.close()
        detach_mounts_under(str(tmp_path))


@pytest.fixture
def mount_image(tmp_path):
    """Mount an image's layers read-only (overlay) at a temp dir; unmounted afterwards."""
    mounted = []

    def _mount(engine, image_id: str) -> str:
        chains = engine.images.rootfs_layers(image_id)
        lowers = engine.snapshots.lowerdirs(chains[-1])
        target = tmp_path / f"mnt{len(mounted)}"
        target.mkdir()
        if len(lowers) == 1:
            lowers = lowers + [str(tmp_path / "empty-lower")]
            (tmp_path / "empty-lower").mkdir(exist_ok=True)
        subprocess.run(["mount", "-t", "overlay", "overlay", "-o", "lowerdir=" + ":".join(lowers),
                        str(target)], check=True)
        mounted.append(str(target))
        return str(target)
    try:
        yield _mount
    finally:
        for m in reversed(mounted):
            subprocess.run(["umount", "-l", m], capture_output=True)
