"""Per-stage build state and build options."""
from __future__ import annotations

import copy
from dataclasses import dataclass, field

DEFAULT_SHELL = ["/bin/sh", "-c"]
# Docker's predefined args: usable without ARG, left out of the cache key and history.
PREDEFINED_ARGS = {n for p in ("HTTP_PROXY", "HTTPS_PROXY", "FTP_PROXY", "NO_PROXY", "ALL_PROXY")
                   for n in (p, p.lower())}


@dataclass
class BuildOptions:
    """What a build was asked to do (``POST /build`` parameters)."""

    dockerfile: str = "Dockerfile"
    tags: list[str] = field(default_factory=list)
    buildargs: dict[str, str | None] = field(default_factory=dict)
    nocache: bool = False
    target: str = ""
    labels: dict[str, str] = field(default_factory=dict)
    quiet: bool = False
    rm: bool = True
    forcerm: bool = False
    pull: bool = False
    network: str = ""
    explain_cache: bool = False
    registry_auth: dict = field(default_factory=dict)  # X-Registry-Config: {registry: AuthConfig}

    def auth_for(self, domain: str) -> dict | None:
        """Credentials for pulling a FROM image from ``domain``, if the client sent any."""
        names = {domain, "https://" + domain, f"https://{domain}/v1/", f"http://{domain}"}
        if domain == "docker.io":
            names |= {"https://index.docker.io/v1/", "index.docker.io", "registry-1.docker.io"}
        for key, auth in self.registry_auth.items():
            if key.rstrip("/") in {n.rstrip("/") for n in names} and isinstance(auth, dict):
                return auth
        return None


@dataclass
class StageState:
    """Where a stage is: its current image and the config the next commit writes."""

    index: int
    name: str
    image_id: str | None = None
    config: dict = field(default_factory=dict)
    args: dict[str, str | None] = field(default_factory=dict)  # ARGs declared in this stage
    cmd_set: bool = False  # CMD given in this stage (ENTRYPOINT resets an inherited one)
    author: str = ""

    @property
    def shell(self) -> list[str]:
        return list(self.config.get("Shell") or DEFAULT_SHELL)

    def env_list(self) -> list[str]:
        return list(self.config.get("Env") or [])

    def env(self) -> dict[str, str]:
        out = {}
        for item in self.env_list():
            k, _, v = item.partition("=")
            out[k] = v
        return out

    def set_env(self, key: str, value: str) -> None:
        env = [e for e in self.env_list() if e.partition("=")[0] != key]
        env.append(f"{key}={value}")
        self.config["Env"] = env

    def arg_values(self) -> dict[str, str]:
        """Declared ARGs with a value (an ENV of the same name wins, as in docker)."""
        env = self.env()
        return {k: v for k, v in self.args.items() if v is not None and k not in env}

    def substitution_env(self) -> dict[str, str]:
        """What ``$VAR`` sees: declared ARGs overlaid by ENV."""
        out = {k: v for k, v in self.args.items() if v is not None}
        out.update(self.env())
        return out


def container_config(image_config: dict | None) -> dict:
    """A private copy of an image's ``config`` section (never None)."""
    return copy.deepcopy((image_config or {}).get("config") or {})
