"""Fetching manifests and indexes, choosing a platform, checking media types."""
from __future__ import annotations

import hashlib
import platform as _platform

from dockyard.errors import InvalidArgument, NotFound
from dockyard.oci import image as oi
from dockyard.registry.client import RegistryClient, check

ACCEPT = ", ".join([oi.OCI_INDEX, oi.DOCKER_MANIFEST_LIST, oi.OCI_MANIFEST, oi.DOCKER_MANIFEST])
LAYER_TYPES = {oi.OCI_LAYER, oi.OCI_LAYER_GZIP, oi.OCI_LAYER_ZSTD, oi.DOCKER_LAYER,
               oi.DOCKER_LAYER_GZIP}
MAX_MANIFEST = 4 << 20
_ARCH = {"x86_64": "amd64", "amd64": "amd64", "aarch64": "arm64", "arm64": "arm64",
         "armv7l": "arm", "armv6l": "arm", "i686": "386", "i386": "386", "ppc64le": "ppc64le",
         "s390x": "s390x", "riscv64": "riscv64"}


def host_platform() -> dict:
    """This machine as an OCI platform: ``{"os": "linux", "architecture": "amd64"}``."""
    machine = _platform.machine()
    plat = {"os": "linux", "architecture": _ARCH.get(machine, machine)}
    if machine.startswith("armv"):
        plat["variant"] = "v" + machine[4]
    elif plat["architecture"] == "arm64":
        plat["variant"] = "v8"
    return plat


def parse_platform(text: str | None) -> dict | None:
    """``linux/arm64/v8`` → ``{"os", "architecture", "variant"}``; None for empty."""
    if not text:
        return None
    parts = text.lower().split("/")
    if len(parts) == 1 or len(parts) > 3 or not all(parts):
        raise InvalidArgument(f"invalid platform {text!r}: want os/arch[/variant]")
    plat = {"os": parts[0], "architecture": _ARCH.get(parts[1], parts[1])}
    if len(parts) == 3:
        plat["variant"] = parts[2]
    return plat


def platform_str(p: dict) -> str:
    return "/".join(x for x in (p.get("os"), p.get("architecture"), p.get("variant")) if x)


def matches(candidate: dict, want: dict) -> bool:
    if candidate.get("os") != want["os"] or candidate.get("architecture") != want["architecture"]:
        return False
    v = want.get("variant")
    return not v or candidate.get("variant") in (v, None if v == "v8" else v)


def select(index: dict, want: dict, what: str) -> dict:
    """The index entry for platform ``want`` (NotFound naming the platforms on offer)."""
    entries = [m for m in index.get("manifests") or [] if isinstance(m, dict)]
    for m in entries:
        if m.get("mediaType", oi.OCI_MANIFEST) in oi.MANIFEST_TYPES and \
                matches(m.get("platform") or {}, want):
            return m
    offered = ", ".join(platform_str(m.get("platform") or {}) for m in entries) or "none"
    raise NotFound(f"no matching manifest for {platform_str(want)} in the manifest list "
                   f"entries of {what} (has: {offered})")


def fetch(client: RegistryClient, repo: str, reference: str, scope: str,
          what: str) -> tuple[bytes, str, str]:
    """GET a manifest by tag or digest → (bytes, media type, digest), digest verified."""
    r = client.request("GET", f"/v2/{repo}/manifests/{reference}", scope=scope,
                       headers={"Accept": ACCEPT})
    if r.status == 404:
        raise NotFound(f"manifest for {what} not found: manifest unknown: manifest unknown")
    check(r, f"manifest for {what}")
    data = r.read(MAX_MANIFEST + 1)
    r.body()
    if len(data) > MAX_MANIFEST:
        raise InvalidArgument(f"manifest for {what} is larger than {MAX_MANIFEST} bytes")
    digest = "sha256:" + hashlib.sha256(data).hexdigest()
    if reference.startswith("sha256:") and digest != reference:
        raise InvalidArgument(f"manifest for {what}: digest mismatch: got {digest}")
    doc = oi.parse_json(data, f"manifest for {what}")
    media = doc.get("mediaType") or r.headers.get("content-type", "").split(";")[0].strip()
    if doc.get("schemaVersion") == 1:
        media = media if "v1" in media else "application/vnd.docker.distribution.manifest.v1+json"
    elif media in ("", "application/json", "text/plain", "application/octet-stream"):
        # an OCI document may omit mediaType; its shape tells index from manifest
        media = oi.OCI_INDEX if "manifests" in doc else oi.OCI_MANIFEST
    return data, media, digest


def resolve(client: RegistryClient, repo: str, reference: str, scope: str, what: str,
            want: dict | None) -> tuple[bytes, dict, str, str]:
    """The image manifest for ``reference`` (through an index if needed).

    Returns (manifest bytes, parsed manifest, its digest, the digest to record as
    the repo digest: the index's when there is one, as docker does).
    """
    data, media, digest = fetch(client, repo, reference, scope, what)
    repo_digest = digest
    if media in oi.INDEX_TYPES:
        entry = select(oi.parse_json(data, what), want or host_platform(), what)
        data, media, digest = fetch(client, repo, entry["digest"], scope, what)
    if media not in oi.MANIFEST_TYPES:
        raise InvalidArgument(f"manifest for {what} has unsupported media type {media!r} "
                              "(want OCI or Docker schema 2)")
    doc = oi.parse_json(data, f"manifest for {what}")
    validate(doc, what)
    return data, doc, digest, repo_digest


def validate(doc: dict, what: str) -> None:
    """Check the shape and layer media types of an image manifest."""
    cfg = doc.get("config")
    if not isinstance(cfg, dict) or "digest" not in cfg or "size" not in cfg:
        raise InvalidArgument(f"manifest for {what}: missing config descriptor")
    for layer in doc.get("layers") or []:
        mt = layer.get("mediaType", "")
        if mt == oi.DOCKER_FOREIGN_GZIP:
            raise InvalidArgument(f"manifest for {what}: foreign layers are not supported")
        if mt not in LAYER_TYPES:
            raise InvalidArgument(f"manifest for {what}: unsupported layer media type {mt!r}")
        if "digest" not in layer or "size" not in layer:
            raise InvalidArgument(f"manifest for {what}: layer without digest or size")
