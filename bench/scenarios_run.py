"""Container scenarios: S1 run, S2 web start, S11-S13 many containers, S14 throughput."""
from __future__ import annotations

import time

from bench.engines import Engine
from bench.hostenv import pids_matching
from bench.measure import Sample, pss_kib, run_cmd, status_kib
from bench.registry import free_port
from bench.scenario import Context, Scenario, container_ip, wait_http

SLEEPERS = 20
S14_MB = 200


class S1Run(Scenario):
    id, title, reps, warmup = "S1", "run --rm bb true", 8, 1

    def measure(self, ctx, eng, i):
        return eng.run("run", "--rm", "bench-bb", "true")[0]


class S2Web(Scenario):
    id, title, reps, warmup = "S2", "run -d -p web → first HTTP 200", 6, 1

    def measure(self, ctx, eng, i):
        port = free_port()
        ctx.of(eng)["s2"] = name = f"bench-s2-{i}"
        t0 = time.perf_counter()
        sample, _ = eng.run("run", "-d", "--name", name, "-p", f"127.0.0.1:{port}:3000",
                            "bench-web", "httpd", "-f", "-p", "3000", "-h", "/www")
        sample.wall = wait_http(f"http://127.0.0.1:{port}/", timeout=15) - t0
        return sample

    def after(self, ctx, eng, i):
        eng.remove(ctx.of(eng).pop("s2", f"bench-s2-{i}"))

    def finish(self, ctx, eng):
        eng.remove(*[f"bench-s2-{i}" for i in range(self.total_runs)])


def engine_memory(eng: Engine) -> tuple[float, float]:
    """PSS and RSS (MiB) of the engine's host-side processes (daemons, shims, conmon,
    supervisor): what the host pays, without the containers' own processes."""
    pids = pids_matching(eng.markers())
    return (sum(pss_kib(p) for p in pids) / 1024,
            sum(status_kib(p, "VmRSS") for p in pids) / 1024)


def start_sleepers(eng: Engine) -> Sample:
    total = Sample()
    for n in range(SLEEPERS):
        total.add(eng.run("run", "-d", "--name", f"bench-sleep-{n}", "bench-bb",
                          "sleep", "3600")[0])
    return total


def remove_sleepers(eng: Engine) -> None:
    eng.remove(*[f"bench-sleep-{n}" for n in range(SLEEPERS)])


class S11Many(Scenario):
    """20 detached containers one after another; records S12's memory figures too."""

    id, title, reps, warmup = "S11", f"start {SLEEPERS} detached sleep containers", 2, 0

    def before(self, ctx, eng, i):
        remove_sleepers(eng)
        time.sleep(0.5)  # let exited shims/monitors go before the baseline
        ctx.of(eng)["mem0"] = engine_memory(eng)

    def measure(self, ctx, eng, i):
        sample = start_sleepers(eng)
        time.sleep(1.0)  # monitors settle (lazy allocations after start)
        pss0, rss0 = ctx.of(eng)["mem0"]
        pss1, rss1 = engine_memory(eng)
        sample.extra["pss_per_container"] = (pss1 - pss0) / SLEEPERS
        sample.extra["rss_per_container"] = (rss1 - rss0) / SLEEPERS
        ctx.of(eng)["sleepers"] = True
        return sample

    def after(self, ctx, eng, i):
        if i < self.total_runs - 1:  # the last run's containers stay up for S13
            remove_sleepers(eng)
            ctx.of(eng)["sleepers"] = False


class S12Memory(Scenario):
    id, title, unit = "S12", "host memory per idle container (PSS)", "MiB"
    derived_from, derived_key = "S11", "pss_per_container"


class S12Rss(Scenario):
    id, title, unit = "S12r", "host memory per idle container (RSS)", "MiB"
    derived_from, derived_key = "S11", "rss_per_container"


class S13Ps(Scenario):
    id, title, reps, warmup = "S13", f"ps with {SLEEPERS} running containers", 7, 1

    def prepare(self, ctx, eng):
        if not ctx.of(eng).get("sleepers"):
            remove_sleepers(eng)
            start_sleepers(eng)
            ctx.of(eng)["sleepers"] = True

    def measure(self, ctx, eng, i):
        sample, out = eng.run("ps")
        if out.count("bench-sleep-") < SLEEPERS:
            raise RuntimeError(f"ps shows {out.count('bench-sleep-')} of {SLEEPERS} containers")
        return sample

    def finish(self, ctx, eng):
        remove_sleepers(eng)
        ctx.of(eng)["sleepers"] = False


class S14Throughput(Scenario):
    """200 MB from busybox httpd, through the published port and straight to the IP."""

    id, title, unit, higher_is_better = "S14", f"{S14_MB} MB through a published port", "MB/s", True
    # a fetch takes ~0.1 s; two runs let the ratio swing 0.72-0.97 with the machine's
    # load, eight (published and direct interleaved in each) settle the median
    reps, warmup = 8, 1

    def prepare(self, ctx, eng):
        port = free_port()
        script = (f"dd if=/dev/zero of=/www/big bs=1M count={S14_MB} 2>/dev/null && "
                  "exec httpd -f -p 80 -h /www")
        eng.remove("bench-s14")
        eng.quiet("run", "-d", "--name", "bench-s14", "-p", f"127.0.0.1:{port}:80",
                  "bench-web", "sh", "-c", script, check=True)
        wait_http(f"http://127.0.0.1:{port}/index.html", timeout=60)
        ip = container_ip(eng, "bench-s14")
        ctx.of(eng)["s14"] = (f"http://127.0.0.1:{port}/big", f"http://{ip}/big")
        for url in ctx.of(eng)["s14"]:  # the file is complete once both answer 200
            wait_http(url.replace("/big", "/index.html"), timeout=60)

    def measure(self, ctx, eng, i):
        published, direct = ctx.of(eng)["s14"]
        sample = fetch(eng, published)
        sample.extra["direct"] = fetch(eng, direct).extra["mbps"]
        return sample

    def value(self, sample):
        return sample.extra.get("mbps")

    def finish(self, ctx, eng):
        eng.remove("bench-s14")


class S14Direct(Scenario):
    id, title, unit, higher_is_better = "S14b", f"{S14_MB} MB direct to the container IP", "MB/s", True
    derived_from, derived_key = "S14", "direct"


def fetch(eng: Engine, url: str) -> Sample:
    """curl ``url`` to /dev/null; MB/s (10^6) in extra['mbps'], CPU incl. the engine's."""
    eng.meter.begin()
    sample, out = run_cmd(["curl", "-sf", "--noproxy", "*", "-o", "/dev/null", "-w",
                           "%{size_download} %{time_total}", url])
    daemons = eng.meter.end()
    sample.cpu += daemons.cpu
    size, secs = out.split()
    if int(float(size)) != S14_MB * 1024 * 1024:
        raise RuntimeError(f"{url} gave {size} bytes, not {S14_MB} MiB")
    sample.extra["mbps"] = float(size) / float(secs) / 1e6
    return sample


SCENARIOS = [S1Run, S2Web]
LATE = [S11Many, S12Memory, S12Rss, S13Ps, S14Throughput, S14Direct]
