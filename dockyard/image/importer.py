"""``import``: a rootfs tarball becomes a one-layer image; ``--change`` edits its config.

The changes are Dockerfile instructions, as ``docker import --change`` takes them:
CMD, ENTRYPOINT, ENV, EXPOSE, LABEL, ONBUILD, STOPSIGNAL, USER, VOLUME, WORKDIR.
"""
from __future__ import annotations

import json
import platform
import shlex

from dockyard.errors import InvalidArgument
from dockyard.oci import image as oci

ALLOWED = ("CMD", "ENTRYPOINT", "ENV", "EXPOSE", "LABEL", "ONBUILD", "STOPSIGNAL", "USER",
           "VOLUME", "WORKDIR")


def go_arch() -> str:
    """The host architecture in OCI/Go naming (amd64, arm64, ...)."""
    m = platform.machine().lower()
    return {"x86_64": "amd64", "aarch64": "arm64", "armv7l": "arm", "i686": "386",
            "ppc64le": "ppc64le", "s390x": "s390x"}.get(m, m)


def _exec_form(arg: str) -> list[str]:
    """JSON array form as is; shell form becomes ``/bin/sh -c "…"`` like docker."""
    arg = arg.strip()
    if arg.startswith("["):
        try:
            value = json.loads(arg)
        except ValueError:
            value = None
        if isinstance(value, list) and all(isinstance(v, str) for v in value):
            return value
    return ["/bin/sh", "-c", arg]


def _pairs(arg: str, what: str) -> list[tuple[str, str]]:
    """``k=v k2="v 2"`` or the legacy one-pair ``k v`` form."""
    try:
        words = shlex.split(arg)
    except ValueError as e:
        raise InvalidArgument(f"{what}: {e}") from None
    if words and "=" not in words[0]:
        key, _, value = arg.strip().partition(" ")
        return [(key, value.strip())]
    out = []
    for w in words:
        key, eq, value = w.partition("=")
        if not eq or not key:
            raise InvalidArgument(f"{what}: {w!r} is not KEY=VALUE")
        out.append((key, value))
    return out


def _set_env(cfg: dict, pairs: list[tuple[str, str]]) -> None:
    env = [e for e in cfg.get("Env") or []]
    for key, value in pairs:
        env = [e for e in env if e.split("=", 1)[0] != key] + [f"{key}={value}"]
    cfg["Env"] = env


def _apply_one(cfg: dict, instr: str, arg: str, change: str) -> None:
    if instr in ("CMD", "ENTRYPOINT"):
        cfg["Cmd" if instr == "CMD" else "Entrypoint"] = _exec_form(arg)
    elif instr == "ENV":
        _set_env(cfg, _pairs(arg, f"change {change!r}"))
    elif instr == "LABEL":
        cfg.setdefault("Labels", {}).update(dict(_pairs(arg, f"change {change!r}")))
    elif instr == "EXPOSE":
        for port in arg.split():
            cfg.setdefault("ExposedPorts", {})[port if "/" in port else port + "/tcp"] = {}
    elif instr == "VOLUME":
        vols = _exec_form(arg) if arg.strip().startswith("[") else arg.split()
        for v in vols:
            cfg.setdefault("Volumes", {})[v] = {}
    elif instr == "WORKDIR":
        cfg["WorkingDir"] = arg.strip()
    elif instr == "USER":
        cfg["User"] = arg.strip()
    elif instr == "STOPSIGNAL":
        cfg["StopSignal"] = arg.strip()
    elif instr == "ONBUILD":
        cfg.setdefault("OnBuild", []).append(arg.strip())


def apply_changes(cfg: dict, changes: list[str]) -> dict:
    """Apply Dockerfile-style ``changes`` to a container config dict (in place)."""
    for change in changes:
        if not change.strip():
            continue
        instr, _, arg = change.strip().partition(" ")
        instr = instr.upper()
        if instr not in ALLOWED:
            raise InvalidArgument(f"{instr} is not a valid change command "
                                  f"(allowed: {', '.join(ALLOWED)})")
        if not arg.strip():
            raise InvalidArgument(f"change {change!r}: {instr} needs an argument")
        _apply_one(cfg, instr, arg, change)
    return cfg


def import_config(diff_id: str, changes: list[str], message: str = "",
                  source: str = "-") -> bytes:
    """The config of an imported image (docker's shape: one layer, one history entry)."""
    created = oci.now_rfc3339()
    cfg = apply_changes({}, changes)
    history = {"created": created, "comment": message or f"Imported from {source}"}
    doc = {"architecture": go_arch(), "os": "linux", "created": created,
           "config": cfg or {},
           "rootfs": {"type": "layers", "diff_ids": [diff_id]},
           "history": [history]}
    if message:
        doc["comment"] = message
    return oci.canonical(doc)
