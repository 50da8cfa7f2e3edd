"""Image references, normalised the way docker does.

``team-documentation`` is ``docker.io/library/team-documentation:latest`` and is shown
as ``team-documentation`` / ``latest``; ``localhost:5000/x:y`` keeps its registry;
``name@sha256:…`` pins a digest. Grammar: distribution/reference.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from dockyard.errors import InvalidArgument

DEFAULT_REGISTRY = "docker.io"
DEFAULT_TAG = "latest"
_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*"
_PATH_RE = re.compile(rf"^{_COMPONENT}(?:/{_COMPONENT})*$")
_TAG_RE = re.compile(r"^[\w][\w.-]{0,127}$")
_DOMAIN_RE = re.compile(
    r"^(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*(?::[0-9]+)?$"
    r"|^\[[0-9a-fA-F:.]+\](?::[0-9]+)?$")
_DIGEST_RE = re.compile(r"^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-fA-F0-9]{32,}$")


@dataclass(frozen=True)
class Reference:
    """A parsed reference; ``tag`` is None only when a digest pins it."""

    domain: str
    path: str
    tag: str | None = None
    digest: str | None = None

    @property
    def name(self) -> str:
        """Full repository name: ``docker.io/library/x``."""
        return f"{self.domain}/{self.path}"

    @property
    def familiar_name(self) -> str:
        """The repository as docker shows it: ``x``, ``user/x``, ``localhost:5000/x``."""
        if self.domain == DEFAULT_REGISTRY:
            return self.path[len("library/"):] if self.path.startswith("library/") else self.path
        return self.name

    def __str__(self) -> str:
        s = self.name
        if self.tag:
            s += ":" + self.tag
        if self.digest:
            s += "@" + self.digest
        return s

    @property
    def familiar(self) -> str:
        s = self.familiar_name
        if self.tag:
            s += ":" + self.tag
        if self.digest:
            s += "@" + self.digest
        return s

    def with_tag(self, tag: str) -> "Reference":
        return Reference(self.domain, self.path, tag, None)

    @property
    def registry_host(self) -> str:
        """The host to contact: docker.io is served by registry-1.docker.io."""
        return "registry-1.docker.io" if self.domain == DEFAULT_REGISTRY else self.domain


def _split_domain(name: str) -> tuple[str, str]:
    first, sep, rest = name.partition("/")
    if sep and ("." in first or ":" in first or first == "localhost" or first != first.lower()):
        return first, rest
    return DEFAULT_REGISTRY, name


def parse(ref: str, default_tag: bool = True) -> Reference:
    """Parse and normalise ``ref``; raise InvalidArgument naming what is wrong."""
    if not ref or ref != ref.strip():
        raise InvalidArgument(f"invalid reference format: {ref!r} is empty or has spaces")
    rest, digest = ref, None
    if "@" in rest:
        rest, digest = rest.split("@", 1)
        if not _DIGEST_RE.match(digest):
            raise InvalidArgument(f"invalid reference format: bad digest {digest!r} in {ref!r}")
    tag = None
    slash = rest.rfind("/")
    colon = rest.rfind(":")
    if colon > slash:
        rest, tag = rest[:colon], rest[colon + 1:]
        if not _TAG_RE.match(tag):
            raise InvalidArgument(f"invalid reference format: bad tag {tag!r} in {ref!r}")
    domain, path = _split_domain(rest)
    if not _DOMAIN_RE.match(domain):
        raise InvalidArgument(f"invalid reference format: bad registry host {domain!r} in {ref!r}")
    if path != path.lower():
        raise InvalidArgument(
            f"invalid reference format: repository name {path!r} must be lowercase")
    if not _PATH_RE.match(path) or len(domain) + len(path) + 1 > 255:
        raise InvalidArgument(
            f"invalid reference format: {ref!r} (repository names use [a-z0-9._-/] only)")
    if domain == DEFAULT_REGISTRY and "/" not in path:
        path = "library/" + path
    if tag is None and digest is None and default_tag:
        tag = DEFAULT_TAG
    return Reference(domain, path, tag, digest)


def parse_repo_tag(repo: str, tag: str | None) -> Reference:
    """Join docker's split ``repo`` + ``tag`` query parameters into one reference."""
    return parse(f"{repo}:{tag}" if tag else repo)
