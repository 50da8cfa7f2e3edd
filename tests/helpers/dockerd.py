"""A throw-away real dockerd (Debian docker.io) for interop and comparison tests.

It runs with its own data root, exec root and socket, no bridge and no iptables rules,
so it touches nothing else on the machine; cleanup kills it and what it spawned
(containerd, shims) and detaches its mounts.
"""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
import time

from tests.helpers.daemon import detach_mounts_under, kill_processes_under

DOCKERD = "/usr/sbin/dockerd"


def available() -> bool:
    return os.path.exists(DOCKERD) and shutil.which("docker") is not None


class Dockerd:
    def __init__(self):
        self.base = tempfile.mkdtemp(prefix="dockyard-dockerd-")
        self.socket = os.path.join(self.base, "docker.sock")
        self.env = dict(os.environ, DOCKER_HOST="unix://" + self.socket, DOCKER_BUILDKIT="0")
        self.env.pop("DOCKER_CONTEXT", None)
        self.proc: subprocess.Popen | None = None

    def start(self, timeout: float = 60) -> "Dockerd":
        argv = [DOCKERD, "--data-root", f"{self.base}/data", "--exec-root", f"{self.base}/exec",
                "-H", "unix://" + self.socket, "--pidfile", f"{self.base}/docker.pid",
                "--bridge", "none", "--iptables=false", "--ip-forward=false", "--ip-masq=false",
                "--log-level", "warn"]
        self.proc = subprocess.Popen(argv, env=self.env, start_new_session=True,
                                     stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                     stderr=open(f"{self.base}/dockerd.log", "w"))
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if self.proc.poll() is not None:
                raise RuntimeError(f"dockerd exited: {self.log()}")
            if self.docker("version").returncode == 0:
                return self
            time.sleep(0.2)
        raise RuntimeError(f"dockerd did not answer: {self.log()}")

    def docker(self, *args: str, check: bool = False, timeout: float = 120):
        return subprocess.run(["docker", *args], env=self.env, capture_output=True, text=True,
                              check=check, timeout=timeout)

    def log(self) -> str:
        try:
            with open(f"{self.base}/dockerd.log") as f:
                return f.read()[-3000:]
        except OSError:
            return ""

    def cleanup(self) -> None:
        if self.proc and self.proc.poll() is None:
            ids = self.docker("ps", "-aq").stdout.split()
            if ids:
                self.docker("rm", "-f", *ids)
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        kill_processes_under(self.base)
        detach_mounts_under(self.base)
        shutil.rmtree(self.base, ignore_errors=True)
