"""Validate and normalise a ``POST /containers/create`` body into a container record.

The record is docker's inspect shape (``Id``, ``Name``, ``Config``, ``HostConfig``,
``State``, …) so ``GET /containers/{id}/json`` is mostly the record itself.
"""
from __future__ import annotations

import os
import re
import secrets

from dockyard.errors import InvalidArgument

NAME_RE = re.compile(r"^/?[a-zA-Z0-9][a-zA-Z0-9_.-]+$")
RESTART_POLICIES = ("", "no", "always", "on-failure", "unless-stopped")


def new_id() -> str:
    return secrets.token_hex(32)


def check_name(name: str) -> str:
    """docker's rule; returns the name with its leading slash."""
    if not NAME_RE.match(name):
        raise InvalidArgument(f"Invalid container name ({name}), only "
                              "[a-zA-Z0-9][a-zA-Z0-9_.-] are allowed")
    return "/" + name.lstrip("/")


def random_name(taken) -> str:
    for _ in range(100):
        name = f"/{secrets.choice(_ADJ)}_{secrets.choice(_NOUN)}"
        if not taken(name):
            return name
    return "/" + secrets.token_hex(6)


_ADJ = ["admiring", "brave", "clever", "eager", "focused", "gallant", "happy", "jolly", "keen",
        "lucid", "modest", "nifty", "quirky", "serene", "tender", "vibrant", "wizardly", "zen"]
_NOUN = ["babbage", "curie", "darwin", "euler", "fermat", "galileo", "hopper", "jepsen",
         "lovelace", "mendel", "newton", "pascal", "ritchie", "shannon", "turing", "wozniak"]


def host_config(body: dict) -> dict:
    """Normalise HostConfig (defaults as docker fills them) and validate it."""
    hc = dict(body.get("HostConfig") or {})
    hc.setdefault("NetworkMode", "default")
    hc["RestartPolicy"] = restart_policy(hc.get("RestartPolicy") or {})
    if hc.get("AutoRemove") and hc["RestartPolicy"]["Name"] not in ("", "no"):
        raise InvalidArgument("conflicting options: cannot specify both --restart and --rm")
    for key in ("Memory", "MemorySwap", "NanoCpus", "CpuShares", "CpuQuota", "CpuPeriod"):
        if hc.get(key) is not None and int(hc[key]) < 0 and key != "MemorySwap":
            raise InvalidArgument(f"invalid {key}: must not be negative")
    if hc.get("Memory") and 0 < int(hc["Memory"]) < 6 * 1024 * 1024:
        raise InvalidArgument("Minimum memory limit allowed is 6MB")
    if hc.get("NanoCpus") and hc.get("CpuQuota"):
        raise InvalidArgument("Conflicting options: Nano CPUs and CPU Period cannot both be set")
    lc = hc.get("LogConfig") or {}
    hc["LogConfig"] = lc = {"Type": lc.get("Type") or "json-file", "Config": lc.get("Config") or {}}
    if lc["Type"] not in LOG_DRIVERS:
        if lc["Type"] in DOCKER_ONLY_LOG_DRIVERS:
            raise InvalidArgument(f"logging driver '{lc['Type']}' is not supported by dockyard "
                                  f"(use {', '.join(LOG_DRIVERS)})")
        raise InvalidArgument(f"logger: no log driver named '{lc['Type']}' is registered")
    log_opts(lc["Config"], lc["Type"])
    for b in hc.get("Binds") or []:
        parse_bind(b)
    return hc


def restart_policy(rp: dict) -> dict:
    name = rp.get("Name") or "no"
    if name not in RESTART_POLICIES:
        raise InvalidArgument(f"invalid restart policy: {name}")
    count = int(rp.get("MaximumRetryCount") or 0)
    if count and name != "on-failure":
        raise InvalidArgument("invalid restart policy: maximum retry count can only be used "
                              "with 'on-failure'")
    return {"Name": name, "MaximumRetryCount": count}


_UNITS = {"": 1, "b": 1, "k": 1024, "m": 1024 ** 2, "g": 1024 ** 3}


# json-file: docker's default. local: docker's compact driver; here it is stored as
# json-file underneath (the on-disk format is the daemon's business: clients read through
# the API either way) with local's defaults, 20 MB x 5 files. none: nothing kept, `logs`
# refuses as docker does; attach still streams.
LOG_DRIVERS = ("json-file", "local", "none")
DOCKER_ONLY_LOG_DRIVERS = ("syslog", "journald", "gelf", "fluentd", "awslogs", "splunk",
                           "etwlogs", "gcplogs", "logentries")
_LOG_OPTS = {"json-file": ("max-size", "max-file", "compress", "labels", "labels-regex",
                           "env", "env-regex", "tag"),
             "local": ("max-size", "max-file", "compress")}


def log_opts(opts: dict, driver: str = "json-file") -> tuple[int, int]:
    """(max_size bytes, max_file) from ``--log-opt`` for ``driver``; unknown keys are an
    error like docker's. ``none`` keeps nothing and ignores its options, as docker."""
    if driver == "none":
        return 0, 1
    for k in opts:
        if k not in _LOG_OPTS[driver]:
            raise InvalidArgument(f"unknown log opt '{k}' for {driver} log driver")
    if driver == "local":
        opts = {"max-size": "20m", "max-file": "5", **opts}
    size = 0
    if opts.get("max-size") not in (None, "", "-1"):
        m = re.fullmatch(r"(\d+)([kmgb]?)", str(opts["max-size"]).lower())
        if not m:
            raise InvalidArgument(f"invalid max-size value: {opts['max-size']!r}")
        size = int(m.group(1)) * _UNITS[m.group(2)]
    nfile = int(opts.get("max-file") or 1)
    if nfile < 1:
        raise InvalidArgument("max-file cannot be less than 1")
    return size, nfile


def parse_bind(spec: str) -> dict:
    """``SRC:DST[:opts]`` → {source, destination, rw, named}; a relative source is an error."""
    parts = spec.split(":")
    if len(parts) == 1 and spec.startswith("/"):  # -v /data: an anonymous volume
        return {"source": "", "destination": os.path.normpath(spec), "rw": True, "named": True}
    if len(parts) < 2 or len(parts) > 3 or not parts[1]:
        raise InvalidArgument(f"invalid volume specification: '{spec}'")
    src, dst = parts[0], parts[1]
    opts = parts[2].split(",") if len(parts) == 3 else []
    if not dst.startswith("/"):
        raise InvalidArgument(f"invalid volume specification: '{spec}': "
                              "invalid mount config: destination must be an absolute path")
    bad = [o for o in opts if o not in ("ro", "rw", "z", "Z", "nocopy", "rprivate", "private",
                                        "rshared", "shared", "rslave", "slave")]
    if bad:
        raise InvalidArgument(f"invalid mode: {bad[0]}")
    named = not src.startswith("/")
    if named and not re.fullmatch(r"[a-zA-Z0-9][a-zA-Z0-9_.-]+", src):
        raise InvalidArgument(f"create {src}: \"{src}\" includes invalid characters for a local "
                              "volume name, only \"[a-zA-Z0-9][a-zA-Z0-9_.-]\" are allowed. "
                              "If you intended to pass a host directory, use absolute path")
    return {"source": src, "destination": os.path.normpath(dst), "rw": "ro" not in opts,
            "named": named}


def config(body: dict, image_cfg: dict) -> dict:
    """The container's Config: the request's, with the image's defaults filled in."""
    cfg = {k: v for k, v in body.items() if k not in ("HostConfig", "NetworkingConfig")}
    if cfg.get("Entrypoint") == [""]:
        cfg["Entrypoint"] = None
    if not cfg.get("Entrypoint") and cfg.get("Entrypoint") is None:
        cfg["Entrypoint"] = image_cfg.get("Entrypoint")
        if not cfg.get("Cmd"):
            cfg["Cmd"] = image_cfg.get("Cmd")
    if not (cfg.get("Entrypoint") or cfg.get("Cmd")):
        raise InvalidArgument("no command specified")
    cfg["Env"] = _env(image_cfg.get("Env") or [], cfg.get("Env") or [])
    cfg.setdefault("WorkingDir", "")
    cfg["WorkingDir"] = cfg["WorkingDir"] or image_cfg.get("WorkingDir") or ""
    if cfg["WorkingDir"] and not cfg["WorkingDir"].startswith("/"):
        raise InvalidArgument(f"the working directory '{cfg['WorkingDir']}' is invalid, "
                              "it needs to be an absolute path")
    cfg["User"] = cfg.get("User") or image_cfg.get("User") or ""
    cfg["Labels"] = {**(image_cfg.get("Labels") or {}), **(cfg.get("Labels") or {})}
    cfg["StopSignal"] = cfg.get("StopSignal") or image_cfg.get("StopSignal") or None
    cfg["Healthcheck"] = cfg.get("Healthcheck") or image_cfg.get("Healthcheck")
    cfg["ExposedPorts"] = {**(image_cfg.get("ExposedPorts") or {}), **(cfg.get("ExposedPorts") or {})}
    cfg["Volumes"] = {**(image_cfg.get("Volumes") or {}), **(cfg.get("Volumes") or {})}
    for key in ("Tty", "OpenStdin", "StdinOnce", "AttachStdin", "AttachStdout", "AttachStderr"):
        cfg[key] = bool(cfg.get(key))
    return cfg


def _env(image_env: list[str], env: list[str]) -> list[str]:
    merged: dict[str, str] = {}
    for item in image_env + env:
        k, eq, v = item.partition("=")
        if eq:
            merged[k] = item
    return list(merged.values())
