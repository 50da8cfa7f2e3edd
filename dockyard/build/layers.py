"""Steps that make a layer: RUN, COPY/ADD, and WORKDIR on a missing directory.

Each works on an active snapshot over the stage's current image::

    snapshots.prepare(key, top chain id) → (mount) → work → (umount)
        → images.create_from_snapshot(parent, upper dir, config, history, key): the
          layer blob is written and the snapshot itself is committed as the layer
        → (only if it was not committed) snapshots.remove(key), in the background

RUN hands the snapshot to ``engine.containers.run_step``, which runs the command
in a real container on it. COPY/ADD mount the snapshot and write into the merged
rootfs, resolving every destination inside it (``copier.resolve_in_root``).
"""
from __future__ import annotations

import json
import os
import secrets
import stat
import tempfile
from typing import TYPE_CHECKING, Callable

from dockyard.build import copier, sources
from dockyard.build.mounts import mount_snapshot, umount
from dockyard.build import instructions as I
from dockyard.build.parser import HEREDOC_RE
from dockyard.build.state import PREDEFINED_ARGS, StageState

if TYPE_CHECKING:
    from dockyard.build.builder import Builder

# "extract-" keys are scratch to the snapshotter: its recover() drops the ones a crash left.
SCRATCH_KEY_PREFIX = "extract-build-"


class LayerSteps:
    """RUN/COPY/ADD/WORKDIR for a ``Builder``."""

    def __init__(self, builder: "Builder"):
        self.b = builder
        self.engine = builder.engine

    # -- the common frame --------------------------------------------------------
    def top_chain(self, image_id: str | None) -> str | None:
        if not image_id:
            return None
        chains = self.engine.images.rootfs_layers(image_id)
        return chains[-1] if chains else None

    def layer(self, st: StageState, inputs: dict, created_by: str,
              work: Callable[[str, str], None], mount: bool = True) -> None:
        """Run ``work(key, rootfs)`` on a fresh snapshot and commit it as the new image."""
        snaps = self.engine.snapshots
        key = SCRATCH_KEY_PREFIX + secrets.token_hex(16)
        top = self.top_chain(st.image_id)
        snaps.prepare(key, top)
        try:
            if mount and top:
                self._mounted(key, work)
            else:
                work(key, snaps.upper(key))
            # the snapshot becomes the layer in place (no second copy of the files)
            new = self.engine.images.create_from_snapshot(
                st.image_id, snaps.upper(key), dict(st.config),
                self.b.history(st, created_by, False), None, snapshot_key=key)
        finally:
            if snaps.exists(key):  # a failed step, or an identical layer already stored
                self.b.reaper.remove_snapshot(snaps, key)
        self.b.record(inputs, new)
        st.image_id = new

    def _mounted(self, key: str, work: Callable[[str, str], None]) -> None:
        base = os.path.join(self.engine.exec_root, "build")
        os.makedirs(base, mode=0o700, exist_ok=True)
        target = tempfile.mkdtemp(prefix="rootfs-", dir=base)
        try:
            mount_snapshot(self.engine.snapshots, key, target)
            try:
                work(key, target)
            finally:
                umount(target)
        finally:
            os.rmdir(target)

    # -- WORKDIR -----------------------------------------------------------------
    def workdir(self, st: StageState, path: str) -> None:
        """Config-only when ``path`` already is a directory in the image, else mkdir."""
        created_by = f"/bin/sh -c #(nop) WORKDIR {path}"
        if self._dir_exists(st.image_id, path):
            self.b.commit_config(st, created_by)
            return
        inputs = self.b.cache_inputs(st, created_by + " (mkdir)")
        if self.b.probe(st, inputs):
            return
        self.layer(st, inputs, created_by,
                   lambda key, root: copier.make_dirs(root, path, copier.Owner()))

    def _dir_exists(self, image_id: str | None, path: str) -> bool:
        """Look through the layer dirs top-down; a whiteout on the way means gone."""
        if not image_id:
            return False
        parts = [p for p in path.split("/") if p]
        for chain in reversed(self.engine.images.rootfs_layers(image_id)):
            layer = self.engine.snapshots.dir(chain)
            for i in range(1, len(parts) + 1):
                probe = os.path.join(layer, *parts[:i])
                try:
                    s = os.lstat(probe)
                except FileNotFoundError:
                    continue
                if stat.S_ISCHR(s.st_mode) and s.st_rdev == 0:
                    return False  # overlay whiteout
                if not stat.S_ISDIR(s.st_mode):
                    return False  # a file or symlink: let the mkdir step sort it out
                if i == len(parts):
                    return True
        return False

    # -- RUN -----------------------------------------------------------------------
    def run(self, st: StageState, ins: I.Command) -> None:
        argv = run_argv(st, ins)
        args = {k: v for k, v in st.arg_values().items() if k not in PREDEFINED_ARGS}
        prefix = f"|{len(args)} " + " ".join(f"{k}={v}" for k, v in sorted(args.items())) + " " if args else ""
        created_by = prefix + " ".join(argv)
        flags = "".join(f"--{k}={v} " for k, v in sorted(ins.flags.items()))
        inputs = self.b.cache_inputs(st, "RUN " + flags + json.dumps(argv))
        if self.b.probe(st, inputs):
            return
        cid = secrets.token_hex(32)
        self.b.out.running_in(cid)
        network = ins.flags.get("network", "") if ins.flags.get("network") != "default" else ""
        self.layer(st, inputs, created_by,
                   lambda key, root: self._run_in(st, key, cid, argv, network), mount=False)
        self.b.out.removing(cid)

    def _run_in(self, st: StageState, key: str, cid: str, argv: list[str], network: str) -> None:
        from dockyard.build.builder import StepError
        env = st.env_list()
        for k, v in st.arg_values().items():
            env.append(f"{k}={v}")
        for k in PREDEFINED_ARGS & set(self.b.opts.buildargs):
            if self.b.opts.buildargs[k] is not None:
                env.append(f"{k}={self.b.opts.buildargs[k]}")
        config = {"Cmd": argv, "Env": env, "User": st.config.get("User") or "",
                  "WorkingDir": st.config.get("WorkingDir") or "/", "Id": cid}
        network = network or self.b.opts.network
        kwargs = {"network": network} if network else {}
        code = step_runner(self.engine)(st.image_id or "", key, config,
                                        self.b.out.run_output, **kwargs)
        if code:
            shown = " ".join(argv)
            raise StepError(f"The command '{shown}' returned a non-zero code: {code}", code)

    # -- COPY / ADD ----------------------------------------------------------------
    def copy(self, st: StageState, ins: I.Copy) -> None:
        plan = sources.plan(self.b, st, ins)
        inputs = self.b.cache_inputs(st, plan.instruction, plan.files)
        if self.b.probe(st, inputs):
            plan.cleanup()
            return
        try:
            self.layer(st, inputs, plan.created_by, lambda key, root: plan.apply(root))
        finally:
            plan.cleanup()


def step_runner(engine) -> Callable[..., int]:
    """The container service's ``run_step`` when it has one, else build's own runner."""
    try:
        from dockyard.engine.containers import ContainerService
        if hasattr(ContainerService, "run_step"):
            return engine.containers.run_step
    except ImportError:
        pass
    from dockyard.build import runner
    return lambda *a, **kw: runner.run_step(engine, *a, **kw)


def run_argv(st: StageState, ins: I.Command) -> list[str]:
    """The argv a RUN executes: exec form as is, shell form wrapped in the stage's SHELL."""
    if ins.argv is not None:
        return list(ins.argv)
    if not ins.heredocs:
        return st.shell + [ins.shell]
    if not HEREDOC_RE.sub("", ins.shell).strip() and len(ins.heredocs) == 1:
        return st.shell + [ins.heredocs[0].content]  # RUN <<EOF: the heredoc is the script
    script = ins.shell + "\n" + "".join(h.content + h.name + "\n" for h in ins.heredocs)
    return st.shell + [script]
