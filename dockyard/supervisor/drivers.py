"""Runtime drivers: how the supervisor (and dockyardd, for read-only verbs) drive an OCI runtime.

Two implementations of one small interface:

- :class:`InProcessDriver` calls :class:`dockyard.runtime.Runtime` in this process (fast:
  no interpreter start per container; the container's init is our child).
- :class:`ExternalDriver` runs a runc-compatible binary (``runc`` or ``dockyard-runtime``)
  with runc's command-line contract; the init is re-parented to us (child subreaper).

``create`` takes either ``stdio=(in, out, err)`` fds (dup'd onto the init's 0,1,2) or
``console_socket`` (a unix socket path that receives the pty master over SCM_RIGHTS).
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from typing import Protocol

from dockyard.errors import Conflict, DockyardError, NotFound


class Driver(Protocol):
    def create(self, id: str, bundle: str, *, stdio=None, console_socket=None) -> int: ...
    def start(self, id: str) -> None: ...
    def kill(self, id: str, sig: int, all: bool = False) -> None: ...
    def delete(self, id: str, force: bool = False) -> None: ...
    def exec(self, id: str, process: dict, *, stdio=None, console_socket=None) -> int: ...
    def state(self, id: str) -> dict: ...
    def pause(self, id: str) -> None: ...
    def resume(self, id: str) -> None: ...
    def stats(self, id: str) -> dict: ...
    def ps(self, id: str) -> list[int]: ...
    def update(self, id: str, resources: dict) -> None: ...


class ExternalDriver:
    """A runc-compatible binary: ``runc --root R create --bundle B --pid-file F ID`` …"""

    def __init__(self, binary: str, root: str):
        self.binary = shutil.which(binary) or binary
        self.root = root
        os.makedirs(root, exist_ok=True)

    def _run(self, *args: str) -> str:
        """Run one verb that produces no container stdio; return its stdout."""
        res = subprocess.run([self.binary, "--root", self.root, *args], stdin=subprocess.DEVNULL,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        if res.returncode != 0:
            raise _error(args[0], args[-1], res.stderr.decode(errors="replace"))
        return res.stdout.decode()

    def _spawn(self, verb: list[str], id: str, stdio, console_socket) -> int:
        """create/exec: the container inherits the runtime's stdio, so runtime errors go to a
        --log file rather than a stderr pipe (which the container would keep open)."""
        with tempfile.TemporaryDirectory(prefix="dy-") as tmp:
            pid_file, log = os.path.join(tmp, "pid"), os.path.join(tmp, "log")
            extra = ["--console-socket", console_socket] if console_socket else []
            cmd = [self.binary, "--root", self.root, "--log", log, "--log-format", "json",
                   *verb, "--pid-file", pid_file, *extra, id]
            null = subprocess.DEVNULL
            fds = stdio or (null, null, null)
            rc = subprocess.run(cmd, stdin=fds[0], stdout=fds[1], stderr=fds[2]).returncode
            if rc != 0:
                raise _error(verb[0], id, _read(log))
            with open(pid_file) as f:
                return int(f.read().strip())

    def create(self, id: str, bundle: str, *, stdio=None, console_socket=None) -> int:
        return self._spawn(["create", "--bundle", bundle], id, stdio, console_socket)

    def start(self, id: str) -> None:
        self._run("start", id)

    def kill(self, id: str, sig: int, all: bool = False) -> None:
        self._run("kill", *(["--all"] if all else []), id, str(sig))

    def delete(self, id: str, force: bool = False) -> None:
        self._run("delete", *(["--force"] if force else []), id)

    def exec(self, id: str, process: dict, *, stdio=None, console_socket=None) -> int:
        with tempfile.NamedTemporaryFile("w", prefix="dy-process-", suffix=".json") as f:
            json.dump(process, f)
            f.flush()
            return self._spawn(["exec", "--process", f.name, "--detach"], id, stdio,
                               console_socket)

    def state(self, id: str) -> dict:
        return json.loads(self._run("state", id))

    def pause(self, id: str) -> None:
        self._run("pause", id)

    def resume(self, id: str) -> None:
        self._run("resume", id)

    def stats(self, id: str) -> dict:
        return json.loads(self._run("events", "--stats", id)).get("data", {})

    def ps(self, id: str) -> list[int]:
        return json.loads(self._run("ps", "--format", "json", id)) or []

    def update(self, id: str, resources: dict) -> None:
        with tempfile.NamedTemporaryFile("w", prefix="dy-resources-", suffix=".json") as f:
            json.dump(resources, f)
            f.flush()
            self._run("update", "--resources", f.name, id)


class InProcessDriver:
    """dockyard's own runtime, called as a library (the default when it is installed)."""

    def __init__(self, root: str):
        from dockyard.runtime import Runtime
        self.rt = Runtime(root)

    def create(self, id, bundle, *, stdio=None, console_socket=None) -> int:
        return self.rt.create(id, bundle, stdio=stdio, console_socket=console_socket)

    def start(self, id):
        self.rt.start(id)

    def kill(self, id, sig, all=False):
        self.rt.kill(id, sig, all)

    def delete(self, id, force=False):
        self.rt.delete(id, force)

    def exec(self, id, process, *, stdio=None, console_socket=None) -> int:
        return self.rt.exec(id, process, stdio=stdio, console_socket=console_socket)

    def state(self, id):
        return self.rt.state(id)

    def pause(self, id):
        self.rt.pause(id)

    def resume(self, id):
        self.rt.resume(id)

    def stats(self, id):
        return self.rt.stats(id)

    def ps(self, id):
        return self.rt.ps(id)

    def update(self, id, resources):
        self.rt.update(id, resources)


def _error(verb: str, id: str, stderr: str) -> DockyardError:
    msg = _last_message(stderr) or f"runtime {verb} failed"
    text = f"OCI runtime {verb} failed: {msg}"
    low = msg.lower()
    if "does not exist" in low or "not found" in low and "container" in low:
        return NotFound(text)
    if "not running" in low or "paused" in low or "already" in low:
        return Conflict(text)
    return DockyardError(text)


def _read(path: str) -> str:
    try:
        with open(path) as f:
            return f.read()
    except OSError:
        return ""


def _last_message(stderr: str) -> str:
    """runc logs JSON or logfmt lines; keep the last message."""
    lines = [ln for ln in stderr.strip().splitlines() if ln.strip()]
    if not lines:
        return ""
    last = lines[-1]
    try:
        return json.loads(last).get("msg", last)
    except ValueError:
        if 'msg="' in last:
            return last.split('msg="', 1)[1].rsplit('"', 1)[0]
        return last


def make_driver(name: str, root: str) -> Driver:
    """``dockyard`` → in-process runtime (external ``dockyard-runtime`` if it cannot be
    imported); anything else → that runc-compatible binary."""
    if name in ("dockyard", "default"):
        try:
            return InProcessDriver(root)
        except (ImportError, AttributeError):
            if shutil.which("dockyard-runtime") and _runtime_cli_ok():
                return ExternalDriver("dockyard-runtime", root)
            return ExternalDriver("runc", root)
    return ExternalDriver(name, root)


def _runtime_cli_ok() -> bool:
    import importlib.util
    return importlib.util.find_spec("dockyard.runtime.cli") is not None
