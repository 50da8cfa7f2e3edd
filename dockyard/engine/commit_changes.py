"""``docker commit -c`` / ``import --change``: Dockerfile instructions applied to a config."""
from __future__ import annotations

import json
import shlex

from dockyard.errors import InvalidArgument

ALLOWED = ("CMD", "ENTRYPOINT", "ENV", "EXPOSE", "LABEL", "USER", "VOLUME", "WORKDIR",
           "STOPSIGNAL", "ONBUILD", "HEALTHCHECK", "SHELL")


def _list_or_shell(arg: str) -> list[str]:
    arg = arg.strip()
    if arg.startswith("["):
        try:
            v = json.loads(arg)
            if isinstance(v, list) and all(isinstance(x, str) for x in v):
                return v
        except ValueError:
            pass
    return ["/bin/sh", "-c", arg]


def _pairs(arg: str) -> list[tuple[str, str]]:
    toks = shlex.split(arg)
    if len(toks) == 2 and "=" not in toks[0]:
        return [(toks[0], toks[1])]
    if toks and "=" not in toks[0]:
        return [(toks[0], " ".join(toks[1:]))]
    return [tuple(t.split("=", 1)) for t in toks if "=" in t]  # type: ignore[misc]


def apply_changes(cfg: dict, line: str) -> None:
    """Apply one instruction line to ``cfg`` (docker's image Config keys)."""
    instr, _, arg = line.strip().partition(" ")
    instr = instr.upper()
    if instr not in ALLOWED:
        raise InvalidArgument(f"{instr} is not a valid change command")
    if instr in ("CMD", "ENTRYPOINT", "SHELL"):
        cfg[instr.capitalize() if instr != "ENTRYPOINT" else "Entrypoint"] = _list_or_shell(arg)
    elif instr == "ENV":
        env = {e.split("=", 1)[0]: e for e in cfg.get("Env") or []}
        for k, v in _pairs(arg):
            env[k] = f"{k}={v}"
        cfg["Env"] = list(env.values())
    elif instr == "LABEL":
        cfg["Labels"] = {**(cfg.get("Labels") or {}), **dict(_pairs(arg))}
    elif instr == "EXPOSE":
        ports = dict(cfg.get("ExposedPorts") or {})
        for p in arg.split():
            ports[p if "/" in p else p + "/tcp"] = {}
        cfg["ExposedPorts"] = ports
    elif instr == "VOLUME":
        vols = dict(cfg.get("Volumes") or {})
        for v in (_list_or_shell(arg) if arg.strip().startswith("[") else arg.split()):
            vols[v] = {}
        cfg["Volumes"] = vols
    elif instr == "USER":
        cfg["User"] = arg.strip()
    elif instr == "WORKDIR":
        cfg["WorkingDir"] = arg.strip()
    elif instr == "STOPSIGNAL":
        cfg["StopSignal"] = arg.strip()
    elif instr == "ONBUILD":
        cfg["OnBuild"] = (cfg.get("OnBuild") or []) + [arg.strip()]
    elif instr == "HEALTHCHECK":  # the Dockerfile instruction's own syntax and checks
        from dockyard.build import instructions, parser
        from dockyard.build.dispatch import healthcheck_config
        try:
            [node] = parser.parse(line.strip(), "change").nodes
            cfg["Healthcheck"] = healthcheck_config(instructions.from_node(node))
        except (InvalidArgument, ValueError) as e:  # DockerfileError is one
            raise InvalidArgument(f"invalid change {line.strip()!r}: {e}") from None
