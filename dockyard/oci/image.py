"""OCI / Docker image documents: media types, descriptors, manifests, configs (pure data).

Docker's schema2 and OCI share shapes; only media types differ. Image IDs are the
digest of the config JSON, as in docker, so a config is always kept as the exact bytes
it was received or written with.
"""
from __future__ import annotations

import calendar
import json
import re
import time
from dataclasses import dataclass

from dockyard.errors import InvalidArgument

# manifests and indexes
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_MANIFEST_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
MANIFEST_TYPES = (OCI_MANIFEST, DOCKER_MANIFEST)
INDEX_TYPES = (OCI_INDEX, DOCKER_MANIFEST_LIST)
# configs
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
DOCKER_CONFIG = "application/vnd.docker.container.image.v1+json"
# layers
OCI_LAYER = "application/vnd.oci.image.layer.v1.tar"
OCI_LAYER_GZIP = "application/vnd.oci.image.layer.v1.tar+gzip"
OCI_LAYER_ZSTD = "application/vnd.oci.image.layer.v1.tar+zstd"
DOCKER_LAYER = "application/vnd.docker.image.rootfs.diff.tar"
DOCKER_LAYER_GZIP = "application/vnd.docker.image.rootfs.diff.tar.gzip"
DOCKER_FOREIGN_GZIP = "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip"

# compression → (OCI layer type, docker layer type)
_LAYER_TYPES = {"none": (OCI_LAYER, DOCKER_LAYER), "gzip": (OCI_LAYER_GZIP, DOCKER_LAYER_GZIP),
                "zstd": (OCI_LAYER_ZSTD, OCI_LAYER_ZSTD)}


def layer_media_type(compression: str, docker: bool = False) -> str:
    """The layer media type for ``compression`` ("none", "gzip", "zstd")."""
    return _LAYER_TYPES[compression][1 if docker else 0]


def compression_of(media_type: str) -> str:
    """"gzip", "zstd" or "none" for a layer media type (unknown types count as "none")."""
    if media_type.endswith("gzip"):
        return "gzip"
    if media_type.endswith("zstd"):
        return "zstd"
    return "none"


@dataclass(frozen=True)
class LayerBlob:
    """A layer blob already in the content store."""

    digest: str
    media_type: str
    size: int


def descriptor(media_type: str, digest: str, size: int, **extra) -> dict:
    d = {"mediaType": media_type, "digest": digest, "size": size}
    d.update(extra)
    return d


def manifest(config: dict, layers: list[dict], oci: bool = True) -> bytes:
    """A schema-2 image manifest (OCI or Docker media types) as canonical bytes."""
    doc = {"schemaVersion": 2, "mediaType": OCI_MANIFEST if oci else DOCKER_MANIFEST,
           "config": config, "layers": layers}
    return canonical(doc)


def canonical(doc: dict) -> bytes:
    """Compact JSON, the form docker writes manifests and configs in."""
    return json.dumps(doc, separators=(",", ":")).encode()


def parse_json(data: bytes, what: str) -> dict:
    """Parse a JSON document; a clear InvalidArgument naming ``what`` when it is not."""
    try:
        doc = json.loads(data)
    except (ValueError, UnicodeDecodeError) as e:
        raise InvalidArgument(f"{what}: not valid JSON ({e})") from None
    if not isinstance(doc, dict):
        raise InvalidArgument(f"{what}: expected a JSON object")
    return doc


def diff_ids(config: dict, what: str = "image config") -> list[str]:
    """``rootfs.diff_ids`` of an image config, validated."""
    rootfs = config.get("rootfs")
    if not isinstance(rootfs, dict) or rootfs.get("type") != "layers":
        raise InvalidArgument(f"{what}: missing rootfs of type 'layers'")
    ids = rootfs.get("diff_ids") or []
    if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
        raise InvalidArgument(f"{what}: rootfs.diff_ids must be a list of digests")
    return ids


def now_rfc3339(ts: float | None = None) -> str:
    """Docker's timestamp form: ``2024-01-02T03:04:05.123456789Z``."""
    ts = time.time() if ts is None else ts
    secs = int(ts)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(secs)) + \
        f".{int((ts - secs) * 1e9):09d}Z"


_TS_RE = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(\.\d+)?(Z|[+-]\d\d:?\d\d)?$")


def parse_rfc3339(s: str | None) -> float:
    """Seconds since the epoch for an RFC 3339 timestamp (0 when absent or unparsable)."""
    m = _TS_RE.match(s or "")
    if not m:
        return 0.0
    base, frac, zone = m.groups()
    offset = 0
    if zone and zone != "Z":
        digits = zone[1:].replace(":", "")
        offset = (int(digits[:2]) * 3600 + int(digits[2:]) * 60) * (1 if zone[0] == "+" else -1)
    secs = calendar.timegm(time.strptime(base, "%Y-%m-%dT%H:%M:%S"))
    return secs - offset + (float(frac) if frac else 0.0)


def chain_ids(diff_ids_: list[str]) -> list[str]:
    """Layer chain IDs: ChainID(L0)=DiffID(L0), ChainID(Ln)=sha256(ChainID(Ln-1)+" "+DiffID(Ln))."""
    import hashlib
    out: list[str] = []
    for d in diff_ids_:
        out.append(d if not out else
                   "sha256:" + hashlib.sha256(f"{out[-1]} {d}".encode()).hexdigest())
    return out
