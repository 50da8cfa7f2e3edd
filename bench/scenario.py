"""The scenario contract and the helpers scenarios share.

A scenario is run per engine as: ``prepare`` once (untimed), then for every run
``before`` (untimed), ``measure`` (timed, returns a Sample) and ``after`` (untimed), and
``finish`` once at the end. The runner interleaves engines run by run (A B C A B C …).
A derived scenario (S12, S14b) reports a figure that another scenario's runs recorded
in ``Sample.extra``, so it costs no runs of its own.
"""
from __future__ import annotations

import json
import os
import time
import urllib.request
from dataclasses import dataclass, field

from bench.engines import Engine
from bench.measure import Sample
from bench.registry import Registry


@dataclass
class Context:
    """What scenarios share: the registry, a scratch directory, per-engine state."""

    registry: Registry | None
    scratch: str
    state: dict[str, dict] = field(default_factory=dict)

    def of(self, engine: Engine) -> dict:
        return self.state.setdefault(engine.name, {})

    def scratch_file(self, engine: Engine, name: str) -> str:
        d = os.path.join(self.scratch, engine.name)
        os.makedirs(d, exist_ok=True)
        return os.path.join(d, name)


class Scenario:
    """Base class: override ``measure`` and the hooks a scenario needs."""

    id = "S?"
    title = ""
    unit = "s"                  # s, MiB or MB/s
    higher_is_better = False
    reps = 5
    warmup = 1
    total_runs = 6              # warm-up + measured runs, set by the runner
    derived_from: str | None = None
    derived_key = ""

    def prepare(self, ctx: Context, eng: Engine) -> None: ...
    def before(self, ctx: Context, eng: Engine, i: int) -> None: ...
    def after(self, ctx: Context, eng: Engine, i: int) -> None: ...
    def finish(self, ctx: Context, eng: Engine) -> None: ...

    def measure(self, ctx: Context, eng: Engine, i: int) -> Sample:
        raise NotImplementedError

    def value(self, sample: Sample) -> float | None:
        """The scenario's headline figure from one run (wall seconds by default)."""
        if self.derived_key:
            return sample.extra.get(self.derived_key)
        return sample.wall


# Benchmark traffic stays on loopback and the suite's bridges: never through a proxy.
_NO_PROXY = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def wait_http(url: str, timeout: float = 30) -> float:
    """Poll ``url`` until it answers 200; returns the perf_counter time it did."""
    deadline = time.monotonic() + timeout
    last = ""
    while time.monotonic() < deadline:
        try:
            with _NO_PROXY.open(url, timeout=2) as r:
                if r.status == 200:
                    r.read()
                    return time.perf_counter()
        except OSError as e:
            last = str(e)
        time.sleep(0.002)
    raise RuntimeError(f"no HTTP 200 from {url} within {timeout:.0f}s ({last})")


def image_id(eng: Engine, ref: str) -> str:
    """The local image ID of ``ref`` (empty when absent)."""
    return eng.quiet("image", "inspect", "-f", "{{.Id}}", ref).stdout.strip()


def container_ip(eng: Engine, name: str) -> str:
    """The first network address of a running container (from inspect's JSON, which
    every engine prints alike; template support differs)."""
    out = eng.quiet("inspect", name, check=True).stdout
    settings = (json.loads(out) or [{}])[0].get("NetworkSettings") or {}
    ips = [settings.get("IPAddress")] + [n.get("IPAddress") for n in
                                         (settings.get("Networks") or {}).values()]
    ips = [ip for ip in ips if ip]
    if not ips:
        raise RuntimeError(f"{eng.name}: container {name} has no IP address in inspect")
    return ips[0]
