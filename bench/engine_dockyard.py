"""dockyard under test: dockyardd on the suite's own socket and roots, driven by its CLI."""
from __future__ import annotations

import os
import subprocess

from bench import hostenv
from bench.engines import VENV_BIN, Engine, wait_for_socket


class DockyardEngine(Engine):
    name = "dockyard"

    def __init__(self, opts=None) -> None:
        super().__init__(opts)
        self.socket = os.path.join(self.run_dir, "dockyard.sock")
        self.exec_root = os.path.join(self.run_dir, "exec")
        self.log_path = os.path.join(hostenv.BASE_DATA, "dockyard.log")
        self.proc: subprocess.Popen | None = None
        # Like dockerd (--log-level warn), dockyardd runs without debug logging while
        # measured; the phases breakdown restarts it with --debug for its phase lines.
        self.debug = False
        self.env.update(DOCKYARD_HOST="unix://" + self.socket, DOCKYARD_NO_AUTOSTART="1")
        self.env.pop("DOCKER_HOST", None)

    def missing(self) -> str | None:
        if not os.path.exists(os.path.join(VENV_BIN, "dockyardd")):
            return f"no dockyardd in {VENV_BIN} (run scripts/setup.sh)"
        return None

    def cli(self) -> list[str]:
        if getattr(self.opts, "dockyard_cli", "dockyard") == "docker":
            return ["/usr/local/bin/docker", "-H", "unix://" + self.socket]
        return [os.path.join(VENV_BIN, "dockyard")]

    def daemon_argv(self) -> list[str]:
        argv = [os.path.join(VENV_BIN, "dockyardd"), "--host", "unix://" + self.socket,
                "--data-root", self.data, "--exec-root", self.exec_root,
                "--log-file", self.log_path] + (["--debug"] if self.debug else [])
        runtime = getattr(self.opts, "dockyard_runtime", None)
        return argv + (["--runtime", runtime] if runtime else [])

    def start(self) -> None:
        self.wipe()
        os.makedirs(self.run_dir, exist_ok=True)
        os.makedirs(self.data, exist_ok=True)
        open(self.log_path, "w").close()
        self._launch()

    def restart(self, debug: bool) -> None:
        """Restart dockyardd alone (the supervisor and its containers stay)."""
        if self.proc and self.proc.poll() is None:
            hostenv.terminate([self.proc.pid])
        self.debug = debug
        self._launch()

    def _launch(self) -> None:
        self.proc = subprocess.Popen(self.daemon_argv(), env=self.env, start_new_session=True,
                                     stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                     stderr=open(self.log_path + ".stderr", "w"))
        wait_for_socket(self.socket, self.proc, "dockyardd", timeout=30)

    def stop(self) -> list[str]:
        leftovers = []
        if self.proc and self.proc.poll() is None:
            self.remove_all_containers()
            hostenv.terminate([self.proc.pid])
        # The supervisor keeps containers alive across dockyardd restarts by design;
        # at the end of a bench run it and anything it holds must go too.
        hostenv.terminate(self.daemon_pids())
        leftovers += self._purge_network()
        leftovers += [f"mount {m}" for m in hostenv.mounts_under(self.data)]
        leftovers += [f"mount {m}" for m in hostenv.mounts_under(self.run_dir)]
        self.wipe()
        self.proc = None
        return leftovers

    def _purge_network(self) -> list[str]:
        """dockyardd removes its bridge and chains when it stops with no containers;
        anything still there is a leak worth reporting, and is removed here."""
        try:
            from dockyard.network.cleanup import purge
        except ImportError:
            return []
        try:
            return [f"left {what}" for what in purge(self.exec_root)]
        except Exception as exc:
            return [f"network purge failed: {exc}"]

    def log_text(self) -> str:
        try:
            with open(self.log_path, errors="replace") as f:
                return f.read()
        except OSError:
            return ""
