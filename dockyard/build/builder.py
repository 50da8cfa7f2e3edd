"""The builder: runs a Dockerfile's stages step by step over the engine.

Pipeline (moby's classic builder)::

    parser.parse → instructions.parse_stages → for each step: dispatch.TABLE[cmd]
        config-only step → Builder.commit_config → images.create_config_only
        RUN / COPY / ADD → layers.LayerSteps    → images.create_from_snapshot

Before doing a step, the builder asks the prober for an image made from the same
inputs (parent image, instruction after substitution, build args, source files);
a hit reuses it (`` ---> Using cache``). Every step's result is an image, so a
failed build resumes from the last good step on the next run.
"""
from __future__ import annotations

import json
import time

from dockyard.build import dispatch, instructions as I, parser as P
from dockyard.build.cache import Prober
from dockyard.build.context import Context
from dockyard.build.layers import LayerSteps
from dockyard.build.output import Output
from dockyard.build.reaper import Reaper
from dockyard.build.shell_lex import expand, expand_words
from dockyard.build.state import PREDEFINED_ARGS, BuildOptions, StageState, container_config
from dockyard.errors import DockyardError, InvalidArgument, NotFound


class StepError(DockyardError):
    """A step failed; ``code`` is the exit status of a failed RUN (else 1)."""

    def __init__(self, message: str, code: int = 1):
        super().__init__(message)
        self.code = code


class Builder:
    """One build of one Dockerfile over ``engine`` with ``ctx`` as the context."""

    def __init__(self, engine, ctx: Context, opts: BuildOptions, out: Output, prober: Prober,
                 reaper: Reaper | None = None):
        self.engine, self.ctx, self.opts, self.out, self.prober = engine, ctx, opts, out, prober
        self.reaper = reaper or Reaper()
        self.escape = "\\"
        self.stages: list[StageState] = []
        self.meta_args: dict[str, str | None] = {}
        self.used_args: set[str] = set()
        self.layers = LayerSteps(self)
        self.step_no = 0
        self.made_by: dict[str, int] = {}  # image id → step of this build that created it
        self.total = 0

    # -- entry ---------------------------------------------------------------------
    def build(self, dockerfile_text: str) -> str:
        """Run every stage up to the target; return the final image id."""
        df = P.parse(dockerfile_text, self.opts.dockerfile)
        self.escape = df.escape
        for note in df.notes:
            self.out.note(note)
        meta, stages = I.parse_stages(df)
        stages = self._until_target(stages)
        self._add_label_step(stages[-1])
        self.total = sum(1 + len(s.instructions) for s in stages)
        self._declare_meta_args(meta)
        for i, stage in enumerate(stages):
            self._run_stage(i, stage)
        self._warn_unused_args()
        final = self.stages[-1].image_id
        if not final:
            raise InvalidArgument("No image was generated. Is your Dockerfile empty?")
        return final

    def _until_target(self, stages: list[I.Stage]) -> list[I.Stage]:
        if not self.opts.target:
            return stages
        for i, st in enumerate(stages):
            if st.name == self.opts.target.lower():
                return stages[:i + 1]
        raise NotFound(f"failed to reach build target {self.opts.target} in Dockerfile: no stage named so")

    def _add_label_step(self, stage: I.Stage) -> None:
        """``--label`` becomes a final LABEL step, as docker's classic builder does."""
        if self.opts.labels:
            pairs = [(k, json.dumps(v)) for k, v in sorted(self.opts.labels.items())]
            text = "LABEL " + " ".join(f"{k}={v}" for k, v in pairs)
            stage.instructions.append(I.KeyValues("label", 0, text, pairs))

    def _declare_meta_args(self, meta: list[I.Arg]) -> None:
        for ins in meta:
            for name, default in ins.args:
                env = {k: v for k, v in self.meta_args.items() if v is not None}
                self.meta_args[name] = self.arg_value(name, None if default is None
                                                      else self.expand(default, env))

    def arg_value(self, name: str, default: str | None) -> str | None:
        """A declared ARG's value: --build-arg wins over the default."""
        if name in self.opts.buildargs:
            self.used_args.add(name)
            value = self.opts.buildargs[name]
            return value if value is not None else default
        if default is None and name in self.meta_args:
            return self.meta_args[name]
        return default

    def _warn_unused_args(self) -> None:
        unused = sorted(set(self.opts.buildargs) - self.used_args - PREDEFINED_ARGS)
        if unused:
            self.out.note(f"[Warning] One or more build-args [{' '.join(unused)}] were not consumed")

    # -- stages --------------------------------------------------------------------
    def _run_stage(self, index: int, stage: I.Stage) -> None:
        st = StageState(index, stage.name)
        self.stages.append(st)
        self._step(stage.base)
        self._from(st, stage.base)
        self.out.image(st.image_id or "scratch")
        for ins in stage.instructions:
            self._step(ins)
            self.dispatch(st, ins)
            self.out.image(st.image_id or "")

    def _step(self, ins: I.Instruction) -> None:
        self.step_no += 1
        self.out.step(self.step_no, self.total, _display(ins.original))

    def dispatch(self, st: StageState, ins: I.Instruction) -> None:
        """Run one instruction; errors get the Dockerfile line prefixed."""
        try:
            dispatch.TABLE[ins.cmd](self, st, ins)
        except StepError:
            raise
        except DockyardError as e:
            where = f"{self.opts.dockerfile}:{ins.line}: " if ins.line else ""
            raise _located(e, where) from None
        except OSError as e:  # e.g. no space left while copying: say which step
            where = f"{self.opts.dockerfile}:{ins.line}: " if ins.line else ""
            raise DockyardError(f"{where}{ins.cmd.upper()} failed: {e}") from e

    def _from(self, st: StageState, ins: I.From) -> None:
        env = {k: v for k, v in self.meta_args.items() if v is not None}
        name = self.expand(ins.image, env)
        if not ins.name and not name:
            raise InvalidArgument(f"{self.opts.dockerfile}:{ins.line}: FROM needs an image name")
        prior = self.stage_by_name(name, required=False)
        if prior is not None:
            st.image_id, st.config = prior.image_id, json.loads(json.dumps(prior.config))
        elif name.lower() != "scratch":
            try:
                image = self.image(name)
            except DockyardError as e:
                raise _located(e, f"{self.opts.dockerfile}:{ins.line}: FROM {name}: ") from None
            st.image_id, st.config = image.id, container_config(image.config)
        self._run_onbuild_triggers(st)

    def stage_by_name(self, name: str, required: bool = True) -> StageState | None:
        """A finished earlier stage by name or index (COPY --from, FROM <stage>)."""
        for s in self.stages[:-1] if self.stages else []:
            if s.name and s.name == name.lower():
                return s
        if name.isdigit() and int(name) < len(self.stages) - 1:
            return self.stages[int(name)]
        if required:
            raise NotFound(f"unknown stage {name}")
        return None

    def image(self, name: str):
        """A local image, pulled through the registry service if it is missing."""
        try:
            if not self.opts.pull:
                return self.engine.images.get(name)
        except NotFound:
            pass
        self._pull(name)
        return self.engine.images.get(name)

    def _pull(self, name: str) -> None:
        from dockyard.oci import reference
        ref = reference.parse(name)
        registry = getattr(self.engine, "registry", None)
        if registry is None:
            raise NotFound(f"No such image: {name}")
        for msg in registry.pull_stream(str(ref), None, None, self.opts.auth_for(ref.domain)):
            if "error" in msg:
                raise NotFound(f"pull access denied or image not found for {name}: {msg['error']}")
            if msg.get("status") and not msg.get("progressDetail"):
                self.out.note(msg["status"] + (f": {msg['id']}" if msg.get("id") else ""))

    def _run_onbuild_triggers(self, st: StageState) -> None:
        triggers = st.config.get("OnBuild") or []
        if not triggers:
            return
        st.config["OnBuild"] = None  # triggers fire once, in the direct child (docker)
        self.out.note(f"# Executing {len(triggers)} build trigger{'s' if len(triggers) > 1 else ''}")
        for text in triggers:
            node = P.parse(text, f"ONBUILD of {st.image_id}").nodes[0]
            self.dispatch(st, I.from_node(node, self.escape))

    # -- helpers for handlers ------------------------------------------------------
    def expand(self, word: str, env: dict[str, str]) -> str:
        return expand(word, env, self.escape)

    def expand_words(self, text: str, env: dict[str, str]) -> list[str]:
        return expand_words(text, env, self.escape)

    def cache_inputs(self, st: StageState, instruction: str, files: dict | None = None) -> dict:
        inputs = {"parent": st.image_id or "", "instruction": instruction,
                  "args": {k: v for k, v in st.arg_values().items() if k not in PREDEFINED_ARGS}}
        if files is not None:
            inputs["files"] = files
        return inputs

    def probe(self, st: StageState, inputs: dict) -> bool:
        """Reuse a cached image for ``inputs`` if there is one."""
        hit = self.prober.probe(inputs)
        if hit:
            self.out.using_cache()
            st.image_id = hit
            return True
        if self.out.explain_cache:
            self.out.cache_miss([self._why_parent(r, inputs) for r in self.prober.explain(inputs)])
        return False

    def record(self, inputs: dict, image_id: str) -> None:
        """Remember a step's new image in the cache (and which step made it)."""
        self.prober.record(inputs, image_id)
        self.made_by[image_id] = self.step_no

    def _why_parent(self, reason: str, inputs: dict) -> str:
        """Point a changed parent at the step of this build that made it anew."""
        step = self.made_by.get(inputs.get("parent") or "")
        if reason.startswith("parent image changed") and step:
            return f"{reason} (step {step} was rebuilt)"
        return reason

    def history(self, st: StageState, created_by: str, empty: bool) -> dict:
        """A history entry; MAINTAINER's name travels as the OCI ``author``."""
        h = {"created": _now(), "created_by": created_by}
        if st.author:
            h["author"] = st.author
        if empty:
            h["empty_layer"] = True
        return h

    def commit_config(self, st: StageState, created_by: str) -> None:
        """A step that only changes the config: an image with no new layer."""
        inputs = self.cache_inputs(st, created_by)
        if self.probe(st, inputs):
            return
        new = self.engine.images.create_config_only(st.image_id, dict(st.config),
                                                     self.history(st, created_by, True), None)
        self.record(inputs, new)
        st.image_id = new

    def workdir(self, st: StageState, path: str) -> None:
        self.layers.workdir(st, path)

    def run(self, st: StageState, ins: I.Command) -> None:
        self.layers.run(st, ins)

    def copy(self, st: StageState, ins: I.Copy) -> None:
        self.layers.copy(st, ins)


def _located(e: DockyardError, prefix: str) -> DockyardError:
    """The same error category with the Dockerfile location in front."""
    try:
        return type(e)(prefix + str(e))
    except TypeError:  # a subclass with its own constructor
        err = DockyardError(prefix + str(e))
        err.status = getattr(e, "status", 500)
        return err


def _display(original: str) -> str:
    """``FROM        node`` is shown as ``FROM node`` (keyword, one space, arguments)."""
    word, _, rest = original.strip().partition(" ")
    return f"{word.upper()} {rest.strip()}".strip()


def _now() -> str:
    t = time.time()
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t)) + f".{int(t % 1 * 1e9):09d}Z"
