"""Fixtures for build tests: an in-process engine with busybox, and a build helper.

Everything lives under one temp dir that is unmounted and removed afterwards,
even when a test fails.
"""
from __future__ import annotations

import io
import os
import shutil
import tempfile

import pytest

from tests.helpers.daemon import detach_mounts_under, kill_processes_under


@pytest.fixture(scope="module")
def engine(busybox_tar):
    from dockyard.engine import Engine
    base = tempfile.mkdtemp(prefix="dockyard-build-test-")
    eng = Engine(os.path.join(base, "data"), os.path.join(base, "run"))
    try:
        with open(busybox_tar, "rb") as f:
            eng.images.import_image(f, "busybox:latest")
        yield eng
    finally:
        eng.close()
        kill_processes_under(base)
        detach_mounts_under(base)
        shutil.rmtree(base, ignore_errors=True)


class Result:
    def __init__(self, image_id, messages, error=None):
        self.image_id, self.messages, self.error = image_id, messages, error

    @property
    def text(self) -> str:
        return "".join(m.get("stream", "") for m in self.messages)


def write_tree(root, files: dict) -> None:
    for name, data in files.items():
        path = os.path.join(root, name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb" if isinstance(data, bytes) else "w") as f:
            f.write(data)


@pytest.fixture
def build(engine, tmp_path):
    """build(dockerfile, files={}, **options) → Result; failures come back in .error."""
    from dockyard.build import tarball
    from dockyard.build.state import BuildOptions
    from dockyard.errors import DockyardError
    ctx = tmp_path / "ctx"
    ctx.mkdir()

    def run(dockerfile: str, files: dict | None = None, via_dir: bool = False, **opts) -> Result:
        """Build as the API does (context tarred by the CLI's code, spooled, indexed),
        or straight from the directory with ``via_dir``."""
        write_tree(str(ctx), dict(files or {}, Dockerfile=dockerfile))
        messages: list[dict] = []
        context = str(ctx)
        try:
            if not via_dir:
                data, _ = tarball.context_tar(str(ctx))
                context = engine.builds.receive_context(io.BytesIO(data))
            iid = engine.builds.build(context, BuildOptions(**opts), messages.append)
            return Result(iid, messages)
        except DockyardError as e:
            return Result(None, messages, e)
        finally:
            if not isinstance(context, str):
                context.close()
                shutil.rmtree(context.root, ignore_errors=True)
    run.ctx = ctx
    return run


def config_of(engine, image_id: str) -> dict:
    return engine.images.get(image_id).config


def read_in_image(engine, image_id: str, path: str) -> bytes:
    """A file's bytes from the top-most layer that has it (no mount needed)."""
    for chain in reversed(engine.images.rootfs_layers(image_id)):
        p = os.path.join(engine.snapshots.dir(chain), path.lstrip("/"))
        if os.path.lexists(p):
            with open(p, "rb") as f:
                return f.read()
    raise FileNotFoundError(path)


def stat_in_image(engine, image_id: str, path: str) -> os.stat_result:
    for chain in reversed(engine.images.rootfs_layers(image_id)):
        p = os.path.join(engine.snapshots.dir(chain), path.lstrip("/"))
        if os.path.lexists(p):
            return os.lstat(p)
    raise FileNotFoundError(path)
