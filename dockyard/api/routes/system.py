"""System routes: ping, version, info."""
from __future__ import annotations

import os
import platform
import time

import dockyard
from dockyard.api.http import JSON, Raw
from dockyard.api.router import MAX_VERSION, MIN_VERSION

_START = time.time()
PING_HEADERS = {"Builder-Version": "1", "Swarm": "inactive", "Cache-Control": "no-cache, no-store, must-revalidate", "Pragma": "no-cache"}


def ping(req, engine):
    return Raw(b"OK" if req.method != "HEAD" else b"", "text/plain; charset=utf-8",
               headers=PING_HEADERS)


def _arch() -> str:
    m = platform.machine()
    return {"x86_64": "amd64", "aarch64": "arm64"}.get(m, m)


def version(req, engine):
    uname = os.uname()
    return JSON({
        "Platform": {"Name": "dockyard"},
        "Components": [{"Name": "Engine", "Version": dockyard.__version__,
                        "Details": {"ApiVersion": MAX_VERSION, "MinAPIVersion": MIN_VERSION,
                                    "Os": "linux", "Arch": _arch(),
                                    "KernelVersion": uname.release}}],
        "Version": dockyard.__version__, "ApiVersion": MAX_VERSION,
        "MinAPIVersion": MIN_VERSION, "GitCommit": "", "GoVersion": "python" + platform.python_version(),
        "Os": "linux", "Arch": _arch(), "KernelVersion": uname.release,
        "BuildTime": "",
    })


def _count(engine, service: str, method: str, default=None):
    try:
        return getattr(getattr(engine, service), method)()
    except Exception:  # a service still missing must not break `info`
        return default


def _cgroup_version() -> str:
    return "2" if os.path.exists("/sys/fs/cgroup/cgroup.controllers") else "1"


def info(req, engine):
    counts = _count(engine, "containers", "counts", {}) or {}
    images = _count(engine, "images", "count", 0) or 0
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    uname = os.uname()
    return JSON({
        "ID": _daemon_id(engine), "Name": uname.nodename,
        "Containers": counts.get("total", 0), "ContainersRunning": counts.get("running", 0),
        "ContainersPaused": counts.get("paused", 0), "ContainersStopped": counts.get("stopped", 0),
        "Images": images, "Driver": "overlay2", "DriverStatus": [["Backing Filesystem", "extfs"]],
        "DockerRootDir": engine.data_root, "ExecRoot": engine.exec_root,
        "SystemTime": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime()) + "Z",
        "LoggingDriver": "json-file", "CgroupDriver": "cgroupfs", "CgroupVersion": _cgroup_version(),
        "KernelVersion": uname.release, "OperatingSystem": _os_name(), "OSType": "linux",
        "OSVersion": "", "Architecture": platform.machine(), "NCPU": os.cpu_count(),
        "MemTotal": mem, "ServerVersion": dockyard.__version__,
        "DefaultRuntime": getattr(engine, "runtime_name", "dockyard"),
        "Runtimes": {"dockyard": {"path": "dockyard-runtime"}, "runc": {"path": "runc"}},
        "Plugins": {"Volume": ["local"], "Network": ["bridge", "host", "null"],
                    "Log": ["json-file"]},
        "MemoryLimit": True, "SwapLimit": True, "CpuCfsPeriod": True, "CpuCfsQuota": True,
        "CPUShares": True, "CPUSet": True, "PidsLimit": True, "IPv4Forwarding": True,
        "Debug": False, "NFd": len(os.listdir("/proc/self/fd")), "NGoroutines": 0,
        "SecurityOptions": ["name=seccomp,profile=builtin"], "Swarm": {"LocalNodeState": "inactive"},
        "RegistryConfig": _registry_config(engine),
        "Labels": [], "ExperimentalBuild": False, "LiveRestoreEnabled": True,
        "Isolation": "", "InitBinary": "", "Warnings": [],
    })


def _registry_config(engine) -> dict:
    """docker's RegistryConfig: which registries are reached without TLS verification."""
    try:
        insecure = list(engine.registry.insecure_registries)
    except Exception:
        insecure = []
    cidrs = [h for h in insecure if "/" in h] or ["127.0.0.0/8"]
    names = [h for h in insecure if "/" not in h]
    return {"InsecureRegistryCIDRs": cidrs, "Mirrors": [],
            "IndexConfigs": {h: {"Name": h, "Mirrors": [], "Secure": False, "Official": False}
                             for h in names}}


def _os_name() -> str:
    try:
        with open("/etc/os-release") as f:
            for line in f:
                if line.startswith("PRETTY_NAME="):
                    return line.split("=", 1)[1].strip().strip('"')
    except OSError:
        pass
    return "Linux"


def _daemon_id(engine) -> str:
    path = os.path.join(engine.data_root, "engine-id")
    try:
        with open(path) as f:
            return f.read().strip()
    except FileNotFoundError:
        import uuid
        ident = str(uuid.uuid4()).upper()
        with open(path, "w") as f:
            f.write(ident)
        return ident


def check(req, engine):
    """dockyard's own: verify every blob and reference (``dockyard system check``)."""
    from dockyard.engine.check import run_check
    return JSON(run_check(engine))


ROUTES = [
    ("POST", "/system/check", check),
    ("GET", "/_ping", ping),
    ("HEAD", "/_ping", ping),
    ("GET", "/version", version),
    ("GET", "/info", info),
]
