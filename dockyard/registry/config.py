"""Docker's client config (``~/.docker/config.json``) and per-registry TLS dirs (``certs.d``).

Credentials are kept in docker's format so docker and dockyard share them::

    {"auths": {"localhost:5000": {"auth": "<base64 user:pass>"},
               "https://index.docker.io/v1/": {"auth": "..."}}}

``DOCKER_CONFIG`` names the directory, as for docker. When the config names a
credential helper (``credHelpers.<host>`` or ``credsStore``), credentials go through
``docker-credential-<name> get|store|erase`` instead, with docker's JSON protocol.

TLS material for a registry lives in ``certs.d/<host[:port]>/``: ``*.crt`` are CA
certificates, ``*.cert`` + ``*.key`` a client certificate (docker's layout).
"""
from __future__ import annotations

import base64
import json
import os
import subprocess
import tempfile
from urllib.parse import urlsplit

from dockyard.errors import InvalidArgument

INDEX_SERVER = "https://index.docker.io/v1/"
_HUB_HOSTS = {"docker.io", "index.docker.io", "registry-1.docker.io", "registry.hub.docker.com"}
CERTS_DIRS = ("/etc/dockyard/certs.d", "/etc/docker/certs.d")


def config_path() -> str:
    """Path of config.json (``$DOCKER_CONFIG/config.json`` or ``~/.docker/config.json``)."""
    base = os.environ.get("DOCKER_CONFIG") or os.path.join(os.path.expanduser("~"), ".docker")
    return os.path.join(base, "config.json")


def load() -> dict:
    """The parsed config; {} when there is none. A broken file is an error naming it."""
    path = config_path()
    try:
        with open(path) as f:
            cfg = json.load(f)
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as e:
        raise InvalidArgument(f"{path}: cannot read docker config: {e}") from e
    return cfg if isinstance(cfg, dict) else {}


def save(cfg: dict) -> None:
    """Write config.json atomically with mode 0600 (it holds credentials)."""
    path = config_path()
    os.makedirs(os.path.dirname(path), mode=0o700, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=os.path.dirname(path), prefix=".config.json.")
    try:
        with os.fdopen(fd, "w") as f:
            json.dump(cfg, f, indent="\t")
            f.write("\n")
        os.chmod(tmp, 0o600)
        os.rename(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise


def normalize_server(address: str | None) -> str:
    """``https://localhost:5000/v2/`` → ``localhost:5000``; Docker Hub → docker.io."""
    if not address:
        return "docker.io"
    host = urlsplit(address).netloc if "://" in address else address.split("/", 1)[0]
    return "docker.io" if host in _HUB_HOSTS else host


def config_key(address: str | None) -> str:
    """The key docker uses under ``auths`` for a registry."""
    host = normalize_server(address)
    return INDEX_SERVER if host == "docker.io" else host


def _helper(cfg: dict, host: str) -> str | None:
    helpers = cfg.get("credHelpers") or {}
    for key, name in helpers.items():
        if normalize_server(key) == host:
            return name
    return cfg.get("credsStore") or None


def _run_helper(name: str, action: str, payload: str) -> str:
    """One call of a docker credential helper; its stdout."""
    prog = f"docker-credential-{name}"
    try:
        p = subprocess.run([prog, action], input=payload, capture_output=True, text=True,
                           timeout=30)
    except FileNotFoundError:
        raise InvalidArgument(f"{config_path()}: credential helper {prog} is not installed") \
            from None
    if p.returncode != 0:
        msg = (p.stdout or p.stderr).strip()
        if action == "get" and "credentials not found" in msg.lower():
            return ""
        raise InvalidArgument(f"credential helper {prog} {action}: {msg or 'failed'}")
    return p.stdout


def get_credentials(address: str | None) -> dict | None:
    """``{"username", "password", "serveraddress"}`` stored for a registry, or None."""
    cfg = load()
    host = normalize_server(address)
    helper = _helper(cfg, host)
    if helper:
        out = _run_helper(helper, "get", config_key(host))
        if not out.strip():
            return None
        doc = json.loads(out)
        if doc.get("Username") == "<token>":
            return {"identitytoken": doc.get("Secret", ""), "serveraddress": host}
        return {"username": doc.get("Username", ""), "password": doc.get("Secret", ""),
                "serveraddress": host}
    for key, entry in (cfg.get("auths") or {}).items():
        if normalize_server(key) != host or not isinstance(entry, dict):
            continue
        if entry.get("identitytoken"):
            return {"identitytoken": entry["identitytoken"], "serveraddress": host}
        if entry.get("auth"):
            user, _, pw = base64.b64decode(entry["auth"]).decode().partition(":")
            return {"username": user, "password": pw, "serveraddress": host}
    return None


def store_credentials(address: str | None, username: str, password: str) -> None:
    cfg = load()
    key = config_key(address)
    helper = _helper(cfg, normalize_server(address))
    if helper:
        _run_helper(helper, "store", json.dumps({"ServerURL": key, "Username": username,
                                                 "Secret": password}))
        cfg.setdefault("auths", {})[key] = {}   # docker records the host with no secret
    else:
        token = base64.b64encode(f"{username}:{password}".encode()).decode()
        cfg.setdefault("auths", {})[key] = {"auth": token}
    save(cfg)


def erase_credentials(address: str | None) -> bool:
    """Remove a registry's entry; False when there was none."""
    cfg = load()
    auths = cfg.get("auths") or {}
    host = normalize_server(address)
    keys = [k for k in auths if normalize_server(k) == host]
    helper = _helper(cfg, host)
    if helper and keys:
        _run_helper(helper, "erase", config_key(host))
    for k in keys:
        del auths[k]
    if keys:
        save(cfg)
    return bool(keys)


def encode_auth_header(auth: dict | None) -> str:
    """X-Registry-Auth value: base64url of the JSON AuthConfig (``e30=`` when anonymous)."""
    return base64.urlsafe_b64encode(json.dumps(auth or {}).encode()).decode()


def decode_auth_header(value: str | None) -> dict | None:
    """Parse X-Registry-Auth; None when absent or empty. Bad input → InvalidArgument."""
    if not value:
        return None
    try:
        raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
        auth = json.loads(raw) if raw.strip() else {}
    except (ValueError, UnicodeDecodeError) as e:
        raise InvalidArgument(f"X-Registry-Auth header: not base64url JSON ({e})") from e
    if not isinstance(auth, dict):
        raise InvalidArgument("X-Registry-Auth header: want a JSON object")
    return {k: v for k, v in auth.items() if v} or None


def certs_dir(host: str, roots: tuple[str, ...] = CERTS_DIRS) -> str | None:
    """The first ``certs.d/<host>`` directory that exists for a registry host."""
    for root in roots:
        d = os.path.join(root, host)
        if os.path.isdir(d):
            return d
    return None


def tls_files(directory: str) -> tuple[list[str], tuple[str, str] | None]:
    """CA files and an optional (cert, key) client pair from a certs.d directory."""
    names = sorted(os.listdir(directory))
    cas = [os.path.join(directory, n) for n in names if n.endswith(".crt")]
    client = None
    for n in names:
        if n.endswith(".cert"):
            key = os.path.join(directory, n[:-5] + ".key")
            if not os.path.exists(key):
                raise InvalidArgument(f"{directory}/{n}: client certificate has no {n[:-5]}.key")
            client = (os.path.join(directory, n), key)
    return cas, client
