"""Run a RUN step in a real container when ``engine.containers.run_step`` is absent.

The container service owns ``run_step`` (same signature as ``run_step`` below, minus
``engine``); until it provides one, the builder uses this runner: it mounts the
step's snapshot as the rootfs, writes an OCI bundle with docker's defaults
(namespaces, capabilities, masked paths, /proc /dev /sys mounts) and runs it with a
runc-compatible runtime binary (see ``runtime_binary``), streaming
stdout and stderr to ``on_output`` as they come.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from typing import Callable

from dockyard.build.mounts import mount_snapshot, umount
from dockyard.engine import spec as defaults

NAMESPACES = ["pid", "ipc", "uts", "mount"]


def runtime_binary(engine=None) -> str:
    """``DOCKYARD_BUILD_RUNTIME``, else the daemon's ``--runtime`` (its in-process
    runtime ``dockyard`` is the ``dockyard-runtime`` binary here), else runc."""
    name = os.environ.get("DOCKYARD_BUILD_RUNTIME") or getattr(engine, "runtime_name", "") or "runc"
    if name == "dockyard":
        local = os.path.join(os.path.dirname(sys.executable), "dockyard-runtime")
        return local if os.path.exists(local) else "dockyard-runtime"
    return name


def oci_config(rootfs: str, config: dict, network: str) -> dict:
    """The OCI config for one build step (docker's defaults, no tty, no stdin)."""
    user = defaults.resolve_user(rootfs, config.get("User") or "")
    env = list(config.get("Env") or [])
    if not any(e.startswith("PATH=") for e in env):
        env.insert(0, "PATH=" + defaults.DEFAULT_PATH)
    caps = list(defaults.DEFAULT_CAPS)
    ns = [{"type": t} for t in NAMESPACES]
    if network != "host":
        ns.append({"type": "network"})  # a fresh netns: loopback only ("none")
    spec = {
        "ociVersion": "1.0.2",
        "process": {"terminal": False, "user": user, "args": config["Cmd"], "env": env,
                    "cwd": config.get("WorkingDir") or "/",
                    "capabilities": {k: caps for k in ("bounding", "effective", "permitted")},
                    "noNewPrivileges": False},
        "root": {"path": rootfs, "readonly": False},
        "hostname": (config.get("Id") or "buildkitsandbox")[:12],
        "mounts": defaults.default_mounts(),
        "linux": {"namespaces": ns, "maskedPaths": defaults.MASKED,
                  "readonlyPaths": defaults.READONLY},
    }
    profile = defaults.default_seccomp(caps)  # RUN gets docker's default seccomp as well
    if profile:
        spec["linux"]["seccomp"] = profile
    return spec


def run_step(engine, image_id: str, snapshot_key: str, config: dict,
             on_output: Callable[[bytes], None], network: str = "none") -> int:
    """Run ``config["Cmd"]`` on snapshot ``snapshot_key``; return its exit status."""
    base = os.path.join(engine.exec_root, "build")
    os.makedirs(base, mode=0o700, exist_ok=True)
    bundle = tempfile.mkdtemp(prefix="step-", dir=base)
    rootfs = os.path.join(bundle, "rootfs")
    os.mkdir(rootfs)
    cid = "dockyard-build-" + (config.get("Id") or os.path.basename(bundle))[:24]
    try:
        mount_snapshot(engine.snapshots, snapshot_key, rootfs)
        try:
            with open(os.path.join(bundle, "config.json"), "w") as f:
                json.dump(oci_config(rootfs, config, network), f)
            return _run(runtime_binary(engine), base, bundle, cid, on_output)
        finally:
            umount(rootfs)
    finally:
        shutil.rmtree(bundle, ignore_errors=True)


def remove_leftover_steps(engine) -> list[str]:
    """Start-up after a crash: ``delete --force`` every step container the runtime still
    has state for under the build root (it kills what is still running and removes its
    cgroups); returns their IDs. The runtime's ``run`` that started one may outlive the
    daemon, but once its state is gone it cannot clean up after its container."""
    state_root = os.path.join(engine.exec_root, "build", "runtime")
    try:
        ids = sorted(os.listdir(state_root))
    except FileNotFoundError:
        return []
    runtime = runtime_binary(engine)
    for cid in ids:
        subprocess.run([runtime, "--root", state_root, "delete", "--force", cid],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=60)
    return ids


def _run(runtime: str, base: str, bundle: str, cid: str, on_output: Callable[[bytes], None]) -> int:
    state_root = os.path.join(base, "runtime")
    cmd = [runtime, "--root", state_root, "run", "--bundle", bundle, cid]
    proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, start_new_session=True)
    try:
        while chunk := os.read(proc.stdout.fileno(), 65536):
            on_output(chunk)
        return proc.wait()
    finally:
        proc.stdout.close()
        if proc.poll() is None:  # cut short (e.g. the output sink failed): clean up after it
            proc.kill()
            proc.wait()
            subprocess.run([runtime, "--root", state_root, "delete", "--force", cid],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
