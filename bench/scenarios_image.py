"""Image scenarios: builds (S3-S6), import (S7), registry push/pull (S8, S9), save/load (S10)."""
from __future__ import annotations

import os

from bench import inputs
from bench.scenario import Scenario, image_id


def build(eng, tag: str, ctx_dir: str, *flags: str):
    return eng.run("build", *flags, "-t", tag, "-f", os.path.join(ctx_dir, "Dockerfile"),
                   ctx_dir)[0]


def drop_images(eng, *refs: str) -> None:
    """Remove tagged images and the dangling ones builds left behind."""
    eng.quiet("rmi", "-f", *refs)
    eng.quiet("image", "prune", "-f")


# The Debian rootfs is ≈ 170 MB uncompressed; gzipped it is still well above a quarter.
MIN_DEB_BYTES = 100_000_000


class S3Build(Scenario):
    id, title, reps, warmup = "S3", "build 7-step Dockerfile on bb, --no-cache", 4, 1

    def measure(self, ctx, eng, i):
        return build(eng, "bench-s3", inputs.context_s3(), "--no-cache")

    def finish(self, ctx, eng):
        drop_images(eng, "bench-s3")


class S4Cached(Scenario):
    id, title, reps, warmup = "S4", "same build, all steps cached", 6, 1

    def prepare(self, ctx, eng):
        build(eng, "bench-s4", inputs.context_s3())

    def measure(self, ctx, eng, i):
        return build(eng, "bench-s4", inputs.context_s3())

    def finish(self, ctx, eng):
        drop_images(eng, "bench-s4")


class S5BuildDeb(Scenario):
    id, title, reps, warmup = "S5", "build on deb: COPY 2,000 files, RUN 50 MB, useradd; --no-cache", 2, 0

    def measure(self, ctx, eng, i):
        inputs.touch_one_file(inputs.context_s5(), "s5")
        return build(eng, "bench-s5", inputs.context_s5(), "--no-cache")

    def finish(self, ctx, eng):
        drop_images(eng, "bench-s5")


class S6Rebuild(Scenario):
    id, title, reps, warmup = "S6", "S5 again after one copied file changed", 3, 0

    def prepare(self, ctx, eng):
        # context_s5() regenerates every file, the changed one included: call it here only
        self.ctx_dir = inputs.context_s5()
        inputs.touch_one_file(self.ctx_dir, f"{eng.name}-prep")
        build(eng, "bench-s6", self.ctx_dir)

    def before(self, ctx, eng, i):
        # A new content each run (and a different one per engine), the rest unchanged.
        inputs.touch_one_file(self.ctx_dir, f"{eng.name}-{i}-{os.getpid()}")

    def measure(self, ctx, eng, i):
        return build(eng, "bench-s6", self.ctx_dir)

    def finish(self, ctx, eng):
        drop_images(eng, "bench-s6")


class S7Import(Scenario):
    id, title, reps, warmup = "S7", "import the 200 MB Debian rootfs tar", 2, 0

    def measure(self, ctx, eng, i):
        return eng.run("import", inputs.debian_tar(), f"bench-imp:{i}")[0]

    def after(self, ctx, eng, i):
        eng.quiet("rmi", "-f", f"bench-imp:{i}")


def remote(ctx, eng) -> str:
    return f"{ctx.registry.host}/bench/deb-{eng.name}:v1"


class S8Push(Scenario):
    id, title, reps, warmup = "S8", "push deb to a local registry", 3, 0

    def prepare(self, ctx, eng):
        eng.quiet("tag", "bench-deb", remote(ctx, eng), check=True)

    def before(self, ctx, eng, i):
        ctx.registry.wipe()

    def measure(self, ctx, eng, i):
        sample = eng.run("push", *eng.registry_flags, remote(ctx, eng))[0]
        stored = ctx.registry.stored_bytes()
        if stored < MIN_DEB_BYTES // 4:  # even gzip leaves far more than this of Debian
            raise RuntimeError(f"push left only {stored / 1e6:.1f} MB in the registry")
        sample.extra["pushed_mb"] = stored / 1e6
        return sample

    def finish(self, ctx, eng):
        ctx.registry.wipe()
        eng.quiet("rmi", remote(ctx, eng))


class S9Pull(Scenario):
    id, title, reps, warmup = "S9", "pull deb back (image removed locally first)", 2, 0

    def prepare(self, ctx, eng):
        eng.quiet("tag", "bench-deb", remote(ctx, eng), check=True)
        eng.quiet("push", *eng.registry_flags, remote(ctx, eng), check=True)

    def before(self, ctx, eng, i):
        iid = image_id(eng, "bench-deb") or image_id(eng, remote(ctx, eng))
        eng.quiet("rmi", "-f", iid, check=True)
        if image_id(eng, remote(ctx, eng)):
            raise RuntimeError(f"{eng.name}: image still present after rmi -f")

    def measure(self, ctx, eng, i):
        return eng.run("pull", *eng.registry_flags, remote(ctx, eng))[0]

    def after(self, ctx, eng, i):
        eng.quiet("tag", remote(ctx, eng), "bench-deb", check=True)

    def finish(self, ctx, eng):
        if not image_id(eng, "bench-deb") and image_id(eng, remote(ctx, eng)):
            eng.quiet("tag", remote(ctx, eng), "bench-deb")
        eng.quiet("rmi", remote(ctx, eng))
        ctx.registry.wipe()


class S10Save(Scenario):
    id, title, reps, warmup = "S10s", "save deb to a tar", 3, 1

    def measure(self, ctx, eng, i):
        out = ctx.scratch_file(eng, "deb-save.tar")
        sample = eng.run("save", "-o", out, "bench-deb")[0]
        # Layers may be saved compressed (dockyard keeps them gzipped), so only a tar far
        # smaller than even a compressed Debian is an error.
        if os.path.getsize(out) < MIN_DEB_BYTES // 4:
            raise RuntimeError(f"save wrote only {os.path.getsize(out) / 1e6:.1f} MB")
        sample.extra["saved_mb"] = os.path.getsize(out) / 1e6
        return sample

    def after(self, ctx, eng, i):
        os.unlink(ctx.scratch_file(eng, "deb-save.tar"))


class S10Load(Scenario):
    id, title, reps, warmup = "S10l", "load it back (image removed first)", 2, 0

    def prepare(self, ctx, eng):
        eng.quiet("save", "-o", ctx.scratch_file(eng, "deb-load.tar"), "bench-deb", check=True)

    def before(self, ctx, eng, i):
        eng.quiet("rmi", "-f", image_id(eng, "bench-deb"), check=True)

    def measure(self, ctx, eng, i):
        return eng.run("load", "-i", ctx.scratch_file(eng, "deb-load.tar"))[0]

    def finish(self, ctx, eng):
        if not image_id(eng, "bench-deb"):
            eng.quiet("load", "-i", ctx.scratch_file(eng, "deb-load.tar"))
        os.unlink(ctx.scratch_file(eng, "deb-load.tar"))


SCENARIOS = [S3Build, S4Cached, S5BuildDeb, S6Rebuild, S7Import, S8Push, S9Pull, S10Save, S10Load]
