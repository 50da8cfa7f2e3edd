"""Load and check an OCI bundle's config.json (runtime-spec 1.0/1.1, Linux).

The config stays the plain dict the spec defines (the engine writes the same
shape); this module only checks it, fills in defaults and resolves the rootfs,
so bad input fails before anything is created, with the field path in the
message (``config.json: linux.namespaces[2].type: unknown namespace "foo"``).
"""
from __future__ import annotations

import os

from dockyard.errors import InvalidArgument, NotFound
from dockyard.runtime import jsonio

NAMESPACES = {"pid", "network", "mount", "ipc", "uts", "user", "cgroup", "time"}
HOOK_KINDS = ("prestart", "createRuntime", "createContainer", "startContainer",
              "poststart", "poststop")
RLIMITS = {
    "RLIMIT_CPU": 0, "RLIMIT_FSIZE": 1, "RLIMIT_DATA": 2, "RLIMIT_STACK": 3,
    "RLIMIT_CORE": 4, "RLIMIT_RSS": 5, "RLIMIT_NPROC": 6, "RLIMIT_NOFILE": 7,
    "RLIMIT_MEMLOCK": 8, "RLIMIT_AS": 9, "RLIMIT_LOCKS": 10, "RLIMIT_SIGPENDING": 11,
    "RLIMIT_MSGQUEUE": 12, "RLIMIT_NICE": 13, "RLIMIT_RTPRIO": 14, "RLIMIT_RTTIME": 15,
}


def _fail(field: str, problem: str) -> InvalidArgument:
    return InvalidArgument(f"config.json: {field}: {problem}")


def _expect(value, kind, field: str, required: bool = False):
    """Check ``value`` is of ``kind`` (or absent, unless required); return it."""
    if value is None:
        if required:
            raise _fail(field, "is required")
        return None
    if kind is int and isinstance(value, bool) or not isinstance(value, kind):
        name = kind.__name__ if isinstance(kind, type) else "/".join(k.__name__ for k in kind)
        raise _fail(field, f"must be {_TYPE_NAMES.get(name, name)}, not {type(value).__name__}")
    return value


_TYPE_NAMES = {"dict": "an object", "list": "an array", "str": "a string",
               "int": "an integer", "bool": "a boolean"}


def load(bundle: str) -> dict:
    """Read ``<bundle>/config.json``, check it and return it with defaults filled in.

    Raises:
        NotFound: the bundle or its config.json does not exist.
        InvalidArgument: the JSON is malformed or a field is wrong (field path given).
    """
    path = os.path.join(bundle, "config.json")
    try:
        with open(path, "rb") as f:
            raw = f.read()
    except FileNotFoundError:
        raise NotFound(f"{path}: config.json not found in bundle") from None
    except OSError as e:
        raise InvalidArgument(f"{path}: {e.strerror}") from None
    try:
        config = jsonio.loads(raw)
    except ValueError as e:
        raise InvalidArgument(f"{path}: malformed JSON: {e}") from None
    check(config)
    resolve_rootfs(config, bundle)
    return config


def check(config) -> None:
    """Validate the fields the runtime acts on; raise InvalidArgument naming the field."""
    _expect(config, dict, "(top level)", True)
    _expect(config.get("ociVersion"), str, "ociVersion", True)
    _check_process(_expect(config.get("process"), dict, "process"))
    root = _expect(config.get("root"), dict, "root", True)
    _expect(root.get("path"), str, "root.path", True)
    _expect(root.get("readonly"), bool, "root.readonly")
    _expect(config.get("hostname"), str, "hostname")
    _expect(config.get("domainname"), str, "domainname")
    _check_mounts(_expect(config.get("mounts"), list, "mounts") or [])
    _check_hooks(_expect(config.get("hooks"), dict, "hooks") or {})
    _check_linux(_expect(config.get("linux"), dict, "linux") or {})


def check_process(process) -> None:
    """Validate a process object on its own (``exec --process``)."""
    _expect(process, dict, "process", True)
    _check_process(process, "process")


def _check_process(process: dict | None, prefix: str = "process") -> None:
    if process is None:
        return
    args = _expect(process.get("args"), list, f"{prefix}.args", True)
    if not args:
        raise _fail(f"{prefix}.args", "must not be empty")
    for i, arg in enumerate(args):
        _expect(arg, str, f"{prefix}.args[{i}]", True)
    for i, env in enumerate(_expect(process.get("env"), list, f"{prefix}.env") or []):
        if not isinstance(env, str) or "=" not in env:
            raise _fail(f"{prefix}.env[{i}]", f"must be KEY=VALUE, got {env!r}")
    cwd = _expect(process.get("cwd"), str, f"{prefix}.cwd")
    if cwd is not None and not cwd.startswith("/"):
        raise _fail(f"{prefix}.cwd", f"must be an absolute path, got {cwd!r}")
    _expect(process.get("terminal"), bool, f"{prefix}.terminal")
    _check_user(_expect(process.get("user"), dict, f"{prefix}.user") or {}, prefix)
    caps = _expect(process.get("capabilities"), dict, f"{prefix}.capabilities") or {}
    for kind, names in caps.items():
        for i, name in enumerate(_expect(names, list, f"{prefix}.capabilities.{kind}") or []):
            _expect(name, str, f"{prefix}.capabilities.{kind}[{i}]", True)
    for i, rl in enumerate(_expect(process.get("rlimits"), list, f"{prefix}.rlimits") or []):
        field = f"{prefix}.rlimits[{i}]"
        _expect(rl, dict, field, True)
        if rl.get("type") not in RLIMITS:
            raise _fail(f"{field}.type", f"unknown rlimit {rl.get('type')!r}")
        _expect(rl.get("soft"), int, f"{field}.soft", True)
        _expect(rl.get("hard"), int, f"{field}.hard", True)
    _expect(process.get("noNewPrivileges"), bool, f"{prefix}.noNewPrivileges")
    _expect(process.get("oomScoreAdj"), int, f"{prefix}.oomScoreAdj")


def _check_user(user: dict, prefix: str) -> None:
    _expect(user.get("uid"), int, f"{prefix}.user.uid")
    _expect(user.get("gid"), int, f"{prefix}.user.gid")
    _expect(user.get("umask"), int, f"{prefix}.user.umask")
    for i, gid in enumerate(_expect(user.get("additionalGids"), list,
                                    f"{prefix}.user.additionalGids") or []):
        _expect(gid, int, f"{prefix}.user.additionalGids[{i}]", True)


def _check_mounts(mounts: list) -> None:
    for i, m in enumerate(mounts):
        _expect(m, dict, f"mounts[{i}]", True)
        dest = _expect(m.get("destination"), str, f"mounts[{i}].destination", True)
        if not dest.startswith("/"):
            raise _fail(f"mounts[{i}].destination", f"must be an absolute path, got {dest!r}")
        _expect(m.get("type"), str, f"mounts[{i}].type")
        _expect(m.get("source"), str, f"mounts[{i}].source")
        for j, opt in enumerate(_expect(m.get("options"), list, f"mounts[{i}].options") or []):
            _expect(opt, str, f"mounts[{i}].options[{j}]", True)


def _check_hooks(hooks: dict) -> None:
    for kind, entries in hooks.items():
        if kind not in HOOK_KINDS:
            raise _fail(f"hooks.{kind}", "unknown hook kind")
        for i, hook in enumerate(_expect(entries, list, f"hooks.{kind}") or []):
            field = f"hooks.{kind}[{i}]"
            _expect(hook, dict, field, True)
            path = _expect(hook.get("path"), str, f"{field}.path", True)
            if not path.startswith("/"):
                raise _fail(f"{field}.path", f"must be an absolute path, got {path!r}")
            _expect(hook.get("args"), list, f"{field}.args")
            _expect(hook.get("env"), list, f"{field}.env")
            _expect(hook.get("timeout"), int, f"{field}.timeout")


def _check_linux(linux: dict) -> None:
    seen = set()
    for i, ns in enumerate(_expect(linux.get("namespaces"), list, "linux.namespaces") or []):
        _expect(ns, dict, f"linux.namespaces[{i}]", True)
        kind = _expect(ns.get("type"), str, f"linux.namespaces[{i}].type", True)
        if kind not in NAMESPACES:
            raise _fail(f"linux.namespaces[{i}].type", f"unknown namespace {kind!r}")
        if kind == "time":
            raise _fail(f"linux.namespaces[{i}].type", "the time namespace is not supported")
        if kind in seen:
            raise _fail(f"linux.namespaces[{i}].type", f"namespace {kind!r} given twice")
        seen.add(kind)
        path = _expect(ns.get("path"), str, f"linux.namespaces[{i}].path")
        if path is not None and not os.path.exists(path):
            raise _fail(f"linux.namespaces[{i}].path", f"{path}: no such namespace file")
    for key in ("uidMappings", "gidMappings"):
        for i, m in enumerate(_expect(linux.get(key), list, f"linux.{key}") or []):
            for f in ("containerID", "hostID", "size"):
                _expect(_expect(m, dict, f"linux.{key}[{i}]", True).get(f), int,
                        f"linux.{key}[{i}].{f}", True)
    if "mount" not in seen:
        raise _fail("linux.namespaces", "a mount namespace is required")
    if (linux.get("uidMappings") or linux.get("gidMappings")) and "user" not in seen:
        raise _fail("linux.uidMappings", "user mappings given without a user namespace")
    _expect(linux.get("cgroupsPath"), str, "linux.cgroupsPath")
    _expect(linux.get("resources"), dict, "linux.resources")
    _expect(linux.get("sysctl"), dict, "linux.sysctl")
    _expect(linux.get("maskedPaths"), list, "linux.maskedPaths")
    _expect(linux.get("readonlyPaths"), list, "linux.readonlyPaths")
    _expect(linux.get("devices"), list, "linux.devices")
    _expect(linux.get("seccomp"), dict, "linux.seccomp")
    prop = _expect(linux.get("rootfsPropagation"), str, "linux.rootfsPropagation")
    if prop is not None and prop not in ("private", "rprivate", "slave", "rslave", "shared",
                                         "rshared", "unbindable", "runbindable"):
        raise _fail("linux.rootfsPropagation", f"unknown propagation {prop!r}")


def resolve_rootfs(config: dict, bundle: str) -> None:
    """Make ``root.path`` absolute (relative paths are relative to the bundle)."""
    path = os.path.join(os.path.abspath(bundle), config["root"]["path"])
    if not os.path.isdir(path):
        raise _fail("root.path", f"{path}: rootfs does not exist or is not a directory")
    config["root"]["path"] = os.path.realpath(path)


def namespaces(config: dict) -> dict[str, str | None]:
    """``{type: path-or-None}`` for the namespaces the config asks for."""
    return {ns["type"]: ns.get("path") for ns in config.get("linux", {}).get("namespaces", [])}
