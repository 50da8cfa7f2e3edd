"""The engines under test, each driven by its own CLI against a daemon the suite starts.

- dockyard: dockyardd on its own socket, data root and exec root; the ``dockyard`` CLI.
- docker:   Debian's dockerd 20.10 (+ the containerd it spawns, runc) on its own socket,
            data root, exec root, pid file and a bridge the suite makes; /usr/local/bin/docker.
- podman:   podman 4.3 with runc, its own --root/--runroot, containers.conf and network.

Every engine's CLI takes docker's command syntax; the few differences (podman's
``--tls-verify=false`` for a plain-HTTP registry) live in ``registry_flags``.
"""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time

from bench import hostenv
from bench.measure import DaemonMeter, Sample, run_cmd

VENV_BIN = os.path.dirname(sys.executable)


class Engine:
    """One engine: how to start and stop it, and how to run its CLI measured."""

    name = "?"
    registry_flags: list[str] = []
    rm_flags: list[str] = ["-f"]    # podman's rm -f waits the stop timeout without -t 0

    def __init__(self, opts=None) -> None:
        self.opts = opts
        self.data = os.path.join(hostenv.BASE_DATA, self.name)
        self.run_dir = os.path.join(hostenv.BASE_RUN, self.name)
        self.env = dict(os.environ)
        self.meter = DaemonMeter(self.daemon_pids)

    # -- life cycle (subclasses) ----------------------------------------------------------
    def missing(self) -> str | None:
        """Why this engine cannot run here (a missing binary), or None."""
        return None

    def start(self) -> None: ...

    def stop(self) -> list[str]:
        """Stop and remove everything the engine made; returns leftovers it had to clean."""
        return []

    def cli(self) -> list[str]:
        raise NotImplementedError

    def markers(self) -> list[str]:
        """Substrings of the command lines of this engine's own processes."""
        return [self.data, self.run_dir]

    def daemon_pids(self) -> list[int]:
        return hostenv.pids_matching(self.markers())

    # -- use --------------------------------------------------------------------------
    def argv(self, *args: str) -> list[str]:
        return [*self.cli(), *args]

    def run(self, *args: str, stdin=None, timeout: float = 600) -> tuple[Sample, str]:
        """Run one CLI command measured: wall, CPU of client and daemons, peak memory."""
        self.meter.begin()
        sample, out = run_cmd(self.argv(*args), env=self.env, stdin=stdin, timeout=timeout)
        daemons = self.meter.end()
        sample.cpu += daemons.cpu
        sample.peak_mib += daemons.peak_mib
        return sample, out

    def quiet(self, *args: str, check: bool = False, timeout: float = 600) -> subprocess.CompletedProcess:
        """Run a CLI command unmeasured (set-up and teardown)."""
        proc = subprocess.run(self.argv(*args), env=self.env, capture_output=True, text=True,
                              stdin=subprocess.DEVNULL, timeout=timeout)
        if check and proc.returncode != 0:
            raise RuntimeError(f"{self.name} {' '.join(args[:3])}: {proc.stderr.strip()[-300:]}")
        return proc

    def remove(self, *names: str) -> subprocess.CompletedProcess:
        """Force-remove containers (untimed), without waiting for a stop timeout."""
        return self.quiet("rm", *self.rm_flags, *names, timeout=300)

    def remove_all_containers(self) -> None:
        ids = self.quiet("ps", "-aq").stdout.split()
        if ids:
            self.remove(*ids)

    def wipe(self) -> None:
        """Delete the engine's data and run roots (after it stopped)."""
        for root in (self.data, self.run_dir):
            hostenv.unmount_under(root)
            shutil.rmtree(root, ignore_errors=True)


def wait_for_socket(path: str, proc: subprocess.Popen, what: str, timeout: float = 60) -> None:
    """Wait until a daemon accepts connections on ``path``, failing early if it died."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{what} exited with status {proc.returncode} while starting")
        s = socket.socket(socket.AF_UNIX)
        try:
            s.connect(path)
            return
        except OSError:
            time.sleep(0.05)
        finally:
            s.close()
    raise RuntimeError(f"{what} did not answer on {path} within {timeout:.0f}s")


def make_engines(names: list[str], opts) -> list[Engine]:
    """Engine objects for ``names`` (dockyard, docker, podman), in that order."""
    from bench.engine_docker import DockerEngine
    from bench.engine_dockyard import DockyardEngine
    from bench.engine_podman import PodmanEngine
    table = {"dockyard": DockyardEngine, "docker": DockerEngine, "podman": PodmanEngine}
    out = []
    for n in names:
        if n not in table:
            raise SystemExit(f"bench: unknown engine {n!r} (choose from {', '.join(table)})")
        out.append(table[n](opts))
    return out
