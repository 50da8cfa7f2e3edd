"""A real dockyardd for tests, on its own socket, data root and exec root.

Cleanup is exhaustive and runs even when tests fail: containers are removed through
the API, then the daemon and every process started under the exec root are killed,
mounts under the test roots are detached, and the roots are deleted.
"""
from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

VENV_BIN = os.path.dirname(sys.executable)


def dockyard_bin(name: str) -> str:
    path = os.path.join(VENV_BIN, name)
    return path if os.path.exists(path) else name


class Daemon:
    def __init__(self, base: str | None = None, runtime: str | None = None):
        self.base = base or tempfile.mkdtemp(prefix="dockyard-test-")
        os.makedirs(self.base, exist_ok=True)
        self.data_root = os.path.join(self.base, "data")
        self.exec_root = os.path.join(self.base, "run")
        self.socket = os.path.join(self.base, "dockyard.sock")
        self.host = "unix://" + self.socket
        self.runtime = runtime
        self.proc: subprocess.Popen | None = None
        self.env = dict(os.environ, DOCKYARD_HOST=self.host, DOCKER_HOST=self.host,
                        DOCKYARD_NO_AUTOSTART="1", DOCKYARD_DATA_ROOT=self.data_root,
                        DOCKYARD_EXEC_ROOT=self.exec_root)
        self.env.pop("DOCKER_CONTEXT", None)

    # -- life cycle ------------------------------------------------------
    def start(self, timeout: float = 20) -> "Daemon":
        cmd = [dockyard_bin("dockyardd"), "--host", self.host, "--data-root", self.data_root,
               "--exec-root", self.exec_root, "--debug",
               "--log-file", os.path.join(self.base, "daemon.log")]
        if self.runtime:
            cmd += ["--runtime", self.runtime]
        self.proc = subprocess.Popen(cmd, env=self.env, start_new_session=True,
                                     stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"dockyardd exited with {self.proc.returncode}: {self.log()}")
            if self._answers():
                return self
            time.sleep(0.02)
        raise RuntimeError(f"dockyardd did not answer within {timeout}s: {self.log()}")

    def _answers(self) -> bool:
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            s.connect(self.socket)
            return True
        except OSError:
            return False
        finally:
            s.close()

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def restart(self) -> "Daemon":
        self.stop()
        return self.start()

    def log(self) -> str:
        try:
            with open(os.path.join(self.base, "daemon.log")) as f:
                return f.read()[-4000:]
        except OSError:
            return ""

    # -- use -------------------------------------------------------------
    @property
    def client(self):
        from dockyard.client import Client
        return Client(self.host, autostart=False)

    def cli(self, *args: str, check: bool = False, input: bytes | str | None = None,
            timeout: float = 120) -> subprocess.CompletedProcess:
        """Run ``dockyard ARGS`` against this daemon; text output."""
        return subprocess.run([dockyard_bin("dockyard"), *args], env=self.env, check=check,
                              capture_output=True, text=not isinstance(input, bytes),
                              input=input, timeout=timeout)

    def docker(self, *args: str, check: bool = False, input=None, timeout: float = 120):
        """Run the real docker CLI against this daemon."""
        return subprocess.run(["docker", *args], env=self.env, check=check, capture_output=True,
                              text=True, input=input, timeout=timeout)

    def import_tar(self, tar_path: str, ref: str) -> str:
        repo, _, tag = ref.partition(":")
        with open(tar_path, "rb") as f:
            out = self.client.post("/images/create", {"fromSrc": "-", "repo": repo,
                                                     "tag": tag or "latest"},
                                   body=f, headers={"Content-Type": "application/x-tar"})
        return out

    # -- cleanup ---------------------------------------------------------
    def remove_all_containers(self) -> None:
        try:
            for c in self.client.get("/containers/json", {"all": 1}) or []:
                try:
                    self.client.delete(f"/containers/{c['Id']}", {"force": 1, "v": 1})
                except Exception:
                    pass
        except Exception:
            pass

    def cleanup(self) -> None:
        self.remove_all_containers()
        self.stop()
        kill_processes_under(self.base)
        purge_network(self.exec_root)
        detach_mounts_under(self.base)
        ids = _container_ids(self.data_root)
        shutil.rmtree(self.base, ignore_errors=True)
        remove_cgroups(ids)


def _container_ids(data_root: str) -> list[str]:
    try:
        return os.listdir(os.path.join(data_root, "containers"))
    except OSError:
        return []


def purge_network(exec_root: str) -> None:
    """Bridges, chains and netns files named after this instance (even after a kill -9)."""
    try:
        from dockyard.network.cleanup import purge
        purge(exec_root)
    except Exception as e:  # cleanup must go on; say what was left
        print(f"network cleanup of {exec_root} failed: {e}")


def remove_cgroups(ids: list[str]) -> None:
    """Empty cgroup directories left for these containers (after a kill -9), deepest first."""
    import glob
    for cid in ids:
        for d in sorted(glob.glob(f"/sys/fs/cgroup/*/dockyard/*{cid}*/**/", recursive=True),
                        key=len, reverse=True):
            try:
                os.rmdir(d)
            except OSError:
                pass


def kill_processes_under(base: str) -> None:
    """Kill every process whose command line mentions ``base`` (supervisor, shims)."""
    me = os.getpid()
    for pid in os.listdir("/proc"):
        if not pid.isdigit() or int(pid) == me:
            continue
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                cmd = f.read().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if base in cmd:
            try:
                os.kill(int(pid), signal.SIGKILL)
            except ProcessLookupError:
                pass


def mounts_under(base: str) -> list[str]:
    out = []
    with open("/proc/self/mountinfo") as f:
        for line in f:
            mp = line.split()[4].encode().decode("unicode_escape")
            if mp == base or mp.startswith(base.rstrip("/") + "/"):
                out.append(mp)
    return out


def detach_mounts_under(base: str) -> None:
    for mp in sorted(mounts_under(base), key=len, reverse=True):
        subprocess.run(["umount", "-l", mp], capture_output=True)
