"""Runs the scenarios over the engines, interleaved, and collects the results.

A failure of a scenario on an engine stops that scenario for that engine and is kept as
its result: "not supported: <error>" for dockyard (a feature not there yet), "failed:
<error>" for a peer. Nothing is skipped silently.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field

from bench.engines import Engine
from bench.measure import CommandFailed, Sample
from bench.scenario import Context, Scenario
from bench.stats import interleave


@dataclass
class Outcome:
    """One scenario on one engine: its measured samples, or why there are none."""

    samples: list[Sample] = field(default_factory=list)
    error: str = ""

    @property
    def status(self) -> str:
        return "ok" if not self.error else self.error.split(":", 1)[0]


def describe(eng: Engine, step: str, exc: BaseException) -> str:
    reason = exc.reason if isinstance(exc, CommandFailed) else str(exc) or type(exc).__name__
    kind = "not supported" if eng.name == "dockyard" else "failed"
    return f"{kind}: {step}: {reason}"


class Runner:
    def __init__(self, engines: list[Engine], ctx: Context, reps_scale: float = 1.0,
                 log=print):
        self.engines, self.ctx, self.scale, self.log = engines, ctx, reps_scale, log
        self.results: dict[str, dict[str, Outcome]] = {}

    def reps(self, sc: Scenario) -> int:
        return max(1, round(sc.reps * self.scale))

    def run_all(self, scenarios: list[Scenario]) -> dict[str, dict[str, Outcome]]:
        for sc in scenarios:
            t0 = time.monotonic()
            if sc.derived_from:
                self.results[sc.id] = self._derived(sc)
            else:
                self.results[sc.id] = self.run_one(sc)
            self.log(f"  {sc.id:5} {sc.title[:60]:60} {time.monotonic() - t0:6.1f} s")
        return self.results

    def _derived(self, sc: Scenario) -> dict[str, Outcome]:
        src = self.results.get(sc.derived_from, {})
        return {e.name: Outcome(list(src[e.name].samples), src[e.name].error)
                if e.name in src else Outcome(error=f"failed: {sc.derived_from} did not run")
                for e in self.engines}

    def run_one(self, sc: Scenario) -> dict[str, Outcome]:
        out = {e.name: Outcome() for e in self.engines}
        for eng in self.engines:
            self._step(sc, eng, out, "prepare", lambda e=eng: sc.prepare(self.ctx, e))
        sc.total_runs = sc.warmup + self.reps(sc)  # S11's ``after`` needs the last index
        by_name = {e.name: e for e in self.engines}
        for i, name in interleave(list(by_name), sc.total_runs):
            if out[name].error:
                continue
            sample = self._one_run(sc, by_name[name], i, out)
            if sample is not None and i >= sc.warmup:
                out[name].samples.append(sample)
        for eng in self.engines:
            self._step(sc, eng, out, "cleanup", lambda e=eng: sc.finish(self.ctx, e),
                       record=False)
        return out

    def _one_run(self, sc, eng, i, out) -> Sample | None:
        """before → measure → after, for run ``i`` (warm-ups are the first indices)."""
        if not self._step(sc, eng, out, "set-up", lambda: sc.before(self.ctx, eng, i)):
            return None
        box: list[Sample] = []
        if not self._step(sc, eng, out, "", lambda: box.append(sc.measure(self.ctx, eng, i))):
            return None
        self._step(sc, eng, out, "teardown", lambda: sc.after(self.ctx, eng, i))
        return box[0]

    def _step(self, sc, eng, out, step, fn, record: bool = True) -> bool:
        """Run one hook; a failure becomes the outcome's error (the first one wins)."""
        try:
            fn()
            return True
        except Exception as exc:  # a scenario's failure is a result, not a crash
            msg = describe(eng, step or "run", exc)
            self.log(f"    {sc.id} {eng.name}: {msg}")
            if record and not out[eng.name].error:
                out[eng.name].error = msg
            return False
