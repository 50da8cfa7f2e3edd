"""BuildService (``engine.builds``): builds from a tar or directory context.

``build_stream(body, opts)`` is what ``POST /build`` uses: it extracts the tar
context into a private temp dir (hashing files as they land), runs the builder in
a worker thread and yields the classic builder's JSON messages as they happen
(RUN output is live). ``build(context_dir, opts, emit)`` is the synchronous core
for in-process use. A failed build tags nothing; the images of the steps that
succeeded stay in the cache, so the next build resumes after them.
"""
from __future__ import annotations

import logging
import os
import queue
import shutil
import tempfile
import threading
from typing import BinaryIO, Callable, Iterator

from dockyard.build.builder import Builder, StepError
from dockyard.build.cache import NoCacheProber, SQLiteProber
from dockyard.build.context import Context
from dockyard.build.tarcontext import TarContext
from dockyard.build.mounts import umount
from dockyard.build.output import Output
from dockyard.build.reaper import Reaper
from dockyard.build.state import BuildOptions
from dockyard.errors import DockyardError, NotFound
from dockyard.oci import reference

log = logging.getLogger(__name__)
_END = object()


class BuildService:
    """Dockerfile builds over the engine's images, snapshots and containers."""

    def __init__(self, engine):
        self.engine = engine
        self.tmp_root = os.path.join(engine.data_root, "build-tmp")
        self.reaper = Reaper()

    def close(self) -> None:
        """Daemon stop: let queued removals finish (anything left is redone by recover)."""
        self.reaper.wait()

    def recover(self) -> None:
        """Start-up: remove what builds cut short by a crash left behind (step
        containers with their processes and cgroups, rootfs mounts, bundles, contexts). Their snapshots are scratch
        ("extract-…") and go with the snapshotter's own recover()."""
        build_run = os.path.join(self.engine.exec_root, "build")
        from dockyard.build.runner import remove_leftover_steps
        for cid in remove_leftover_steps(self.engine):
            log.warning("build recover: removed step container %s of a build cut short", cid)
        for target in sorted(_mounts_under(build_run), key=len, reverse=True):
            try:
                umount(target)
            except OSError as e:
                log.warning("build recover: %s", e)
        shutil.rmtree(build_run, ignore_errors=True)
        shutil.rmtree(self.tmp_root, ignore_errors=True)

    def _exists(self, image_id: str) -> bool:
        """Is a cached step's image still there? (one lookup, no config load)"""
        images = self.engine.images
        try:
            return (images.resolve if hasattr(images, "resolve") else images.get)(image_id) is not None
        except NotFound:
            return False

    def prober(self, nocache: bool) -> SQLiteProber:
        cls = NoCacheProber if nocache else SQLiteProber
        return cls(self.engine.meta, self._exists)

    def check_options(self, opts: BuildOptions) -> None:
        """Reject bad tags before any work (they would only fail at the very end)."""
        for t in opts.tags:
            reference.parse(t)
        if not opts.dockerfile:
            opts.dockerfile = "Dockerfile"

    # -- synchronous core -----------------------------------------------------------
    def build(self, context, opts: BuildOptions, emit: Callable[[dict], None]) -> str:
        """Build from ``context`` (a directory path, or a received ``TarContext``);
        report through ``emit``; return the image id.

        Raises DockyardError (StepError for a failed RUN, with its exit code).
        """
        self.check_options(opts)
        out = Output(emit, opts.quiet, opts.explain_cache)
        ctx = Context(context) if isinstance(context, str) else context
        text = ctx.read_file(opts.dockerfile, "Dockerfile")
        builder = Builder(self.engine, ctx, opts, out, self.prober(opts.nocache), self.reaper)
        image_id = builder.build(text)
        out.built(image_id)
        for t in opts.tags:
            ref = reference.parse(t)
            self.engine.images.tag(image_id, str(ref))
            out.tagged(ref.familiar)
        return image_id

    # -- streaming (API) ------------------------------------------------------------
    def build_stream(self, body: BinaryIO, opts: BuildOptions) -> Iterator[dict]:
        """Receive a tar context now (before any response is sent), then return the
        iterator of JSON messages of its build. Bad tars raise InvalidArgument here."""
        self.check_options(opts)
        ctx = self.receive_context(body)
        return self._stream_and_clean(ctx, opts)

    def receive_context(self, body: BinaryIO) -> TarContext:
        """Spool a tar context into a private temp dir, indexing it as it arrives (never
        extracted)."""
        os.makedirs(self.tmp_root, mode=0o700, exist_ok=True)
        tmp = tempfile.mkdtemp(prefix="ctx-", dir=self.tmp_root)
        try:
            # spooled and indexed in one pass over the body
            return TarContext(os.path.join(tmp, "context.tar"), body)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise

    def _stream_and_clean(self, ctx: TarContext, opts: BuildOptions) -> Iterator[dict]:
        try:
            yield from self._run_threaded(ctx, opts)
        finally:
            ctx.close()
            self.reaper.remove_tree(ctx.root)

    def build_dir_stream(self, context_dir: str, opts: BuildOptions) -> Iterator[dict]:
        """Build from a directory (in-process callers); yields like build_stream."""
        yield from self._run_threaded(context_dir, opts)

    def _run_threaded(self, context, opts: BuildOptions) -> Iterator[dict]:
        q: queue.Queue = queue.Queue()

        def work() -> None:
            try:
                self.build(context, opts, q.put)
            except StepError as e:
                q.put(_error(str(e), e.code))
            except DockyardError as e:
                q.put(_error(str(e)))
            except Exception as e:  # a bug must still end the stream with a message
                log.exception("build failed")
                q.put(_error(f"internal error: {type(e).__name__}: {e}"))
            finally:
                q.put(_END)

        t = threading.Thread(target=work, name="build", daemon=True)
        t.start()
        while (msg := q.get()) is not _END:
            yield msg
        t.join()

    # -- cache ----------------------------------------------------------------------
    def prune(self, until: float | None = None) -> dict:
        """Forget the build cache, or the part recorded before ``until`` (images stay;
        ``image prune`` removes those)."""
        keys = self.prober(False).prune(until)
        return {"CachesDeleted": keys, "SpaceReclaimed": 0}


def _mounts_under(base: str) -> list[str]:
    prefix = base.rstrip("/") + "/"
    with open("/proc/self/mountinfo") as f:
        points = [line.split()[4] for line in f]
    # mountinfo escapes spaces and the like as octal (\040)
    points = [p.encode().decode("unicode_escape") for p in points]
    return [p for p in points if p.startswith(prefix)]


def _error(message: str, code: int | None = None) -> dict:
    detail: dict = {"message": message}
    if code is not None:
        detail["code"] = code
    return {"errorDetail": detail, "error": message}
