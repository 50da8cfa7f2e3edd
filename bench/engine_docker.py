"""Debian's dockerd (20.10, with the containerd it spawns and runc) under test.

It gets its own data root, exec root, pid file, socket and a bridge made by the suite on
a free subnet (``--bridge``), so nothing collides with another docker on the machine.
At the end the daemon is stopped and the bridge and the firewall rules it added are
removed.
"""
from __future__ import annotations

import os
import shutil
import subprocess

from bench import hostenv
from bench.engines import Engine, wait_for_socket

BRIDGE = "dybench-dk0"


class DockerEngine(Engine):
    name = "docker"

    def __init__(self, opts=None) -> None:
        super().__init__(opts)
        self.socket = os.path.join(self.run_dir, "docker.sock")
        self.exec_root = os.path.join(self.run_dir, "exec")
        self.pidfile = os.path.join(self.run_dir, "docker.pid")
        self.log_path = os.path.join(hostenv.BASE_DATA, "dockerd.log")
        self.subnet = ""
        self.proc: subprocess.Popen | None = None
        self.env.update(DOCKER_HOST="unix://" + self.socket, DOCKER_BUILDKIT="0")
        self.env.pop("DOCKER_CONTEXT", None)

    def missing(self) -> str | None:
        for path in ("/usr/sbin/dockerd", "/usr/local/bin/docker", "/usr/bin/containerd"):
            if not os.path.exists(path):
                return f"{path} not installed (use --install-peers)"
        return None

    def cli(self) -> list[str]:
        return ["/usr/local/bin/docker"]

    def start(self) -> None:
        self.wipe()
        os.makedirs(self.run_dir, exist_ok=True)
        self.subnet = hostenv.free_subnet([f"172.31.{n}" for n in range(240, 250)])
        hostenv.make_bridge(BRIDGE, f"{self.subnet}.1/24")
        argv = ["/usr/sbin/dockerd", "--data-root", self.data, "--exec-root", self.exec_root,
                "-H", "unix://" + self.socket, "--pidfile", self.pidfile, "--bridge", BRIDGE,
                "--log-level", "warn", "--insecure-registry", "127.0.0.0/8"]
        self.proc = subprocess.Popen(argv, env=self.env, start_new_session=True,
                                     stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                     stderr=open(self.log_path, "w"))
        wait_for_socket(self.socket, self.proc, "dockerd", timeout=60)
        self.quiet("version", check=True)

    def stop(self) -> list[str]:
        if self.proc and self.proc.poll() is None:
            self.remove_all_containers()
            hostenv.terminate([self.proc.pid], grace=20)
        leftovers = [f"process {p}" for p in self.daemon_pids()]
        hostenv.terminate(self.daemon_pids())
        tokens = [BRIDGE] + ([f"{self.subnet}.0/24"] if self.subnet else [])
        prefixes = [] if self._other_dockerd() else ["DOCKER"]
        if not self._other_dockerd():
            tokens += ["-j DOCKER", "-g DOCKER"]
        hostenv.drop_firewall(tokens, prefixes)  # dockerd leaves its rules by design
        hostenv.delete_link(BRIDGE)
        self.wipe()
        self.proc = None
        return leftovers

    def _other_dockerd(self) -> bool:
        """Another dockerd on this machine shares the DOCKER chains: leave them be."""
        cmds = [hostenv.cmdline(p) for p in hostenv.pids_matching(["dockerd"])]
        return any(c.split()[0].endswith("dockerd") and "--iptables=false" not in c
                   for c in cmds if c)

    def wipe(self) -> None:
        super().wipe()
        if os.path.exists(self.run_dir):
            shutil.rmtree(self.run_dir, ignore_errors=True)
