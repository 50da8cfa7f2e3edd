"""A local docker-registry (Debian's distribution 2.8) on a free 127.0.0.1 port.

No blob-descriptor cache, so wiping its storage between runs really empties it: every
measured push uploads every layer and every measured pull downloads them.
"""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
import urllib.request

from bench import hostenv

CONFIG = """\
version: 0.1
log:
  level: warn
storage:
  filesystem:
    rootdirectory: {root}
  delete:
    enabled: true
http:
  addr: 127.0.0.1:{port}
"""


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Registry:
    """The suite's registry process; ``host`` is ``127.0.0.1:PORT``."""

    def __init__(self) -> None:
        self.dir = os.path.join(hostenv.BASE_DATA, "registry")
        self.root = os.path.join(self.dir, "storage")
        self.port = 0
        self.proc: subprocess.Popen | None = None

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self) -> "Registry":
        if not os.path.exists("/usr/bin/docker-registry"):
            raise RuntimeError("docker-registry is not installed (apt-get install docker-registry)")
        shutil.rmtree(self.dir, ignore_errors=True)
        os.makedirs(self.root)
        self.port = free_port()
        conf = os.path.join(self.dir, "config.yml")
        with open(conf, "w") as f:
            f.write(CONFIG.format(root=self.root, port=self.port))
        self.proc = subprocess.Popen(["/usr/bin/docker-registry", "serve", conf],
                                     stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                     stderr=open(os.path.join(self.dir, "log"), "w"))
        self._wait()
        return self

    def _wait(self, timeout: float = 20) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"docker-registry exited with {self.proc.returncode}")
            try:
                urllib.request.urlopen(f"http://{self.host}/v2/", timeout=1).read()
                return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError(f"docker-registry did not answer on {self.host}")

    def wipe(self) -> None:
        """Empty the storage (the registry keeps no cache, so it sees nothing any more)."""
        shutil.rmtree(os.path.join(self.root, "docker"), ignore_errors=True)

    def stored_bytes(self) -> int:
        """Bytes of blob data the registry holds (to check that a push uploaded)."""
        total = 0
        for dirpath, _, files in os.walk(os.path.join(self.root, "docker")):
            total += sum(os.path.getsize(os.path.join(dirpath, f)) for f in files)
        return total

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            hostenv.terminate([self.proc.pid])
        self.proc = None
        shutil.rmtree(self.dir, ignore_errors=True)
