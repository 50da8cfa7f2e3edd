"""``load``: docker-archive (``docker save``, classic and moby 25+) and OCI image-layout tars.

The outer tar is read once, as a stream: every file bigger than a small threshold goes
straight into the content store (hashed on the way; ``blobs/sha256/<hex>`` entries are
verified against their name), small files stay in memory. Then the index is read —
``manifest.json`` when present (docker's own choice), else ``index.json`` — and each
image is recorded through ``ImageService.add_image``, which unpacks and checks every
layer against the config's diff IDs. The whole load runs under one lease: a failure
(or a crash) leaves no blob, snapshot or record behind.
"""
from __future__ import annotations

import posixpath
import tarfile
from dataclasses import dataclass, field

from dockyard.errors import InvalidArgument
from dockyard.image import streams
from dockyard.image.layer import LayerError, clean_parts
from dockyard.oci import digest as dg
from dockyard.oci import image as oci
from dockyard.oci import reference

_IN_MEMORY_MAX = 256 * 1024
_MAX_LINK_HOPS = 16


@dataclass
class Archive:
    """What the outer tar held: small files' bytes, big files' blob digests, links."""

    source: str
    data: dict[str, bytes] = field(default_factory=dict)
    blobs: dict[str, str] = field(default_factory=dict)
    links: dict[str, str] = field(default_factory=dict)

    def resolve(self, name: str) -> str:
        path = "/".join(clean_parts(name, f"{self.source}: entry"))
        for _ in range(_MAX_LINK_HOPS):
            if path not in self.links:
                return path
            path = self.links[path]
        raise InvalidArgument(f"{self.source}: too many links resolving {name!r}")

    def has(self, name: str) -> bool:
        path = self.resolve(name)
        return path in self.data or path in self.blobs

    def read(self, name: str, content) -> bytes:
        path = self.resolve(name)
        if path in self.data:
            return self.data[path]
        if path in self.blobs:
            return content.read(self.blobs[path])
        raise InvalidArgument(f"{self.source}: {name!r} is missing from the archive")

    def blob(self, name: str, content, lease) -> str:
        """The digest of ``name`` in the content store (stored now if it was small)."""
        path = self.resolve(name)
        if path in self.blobs:
            return self.blobs[path]
        data = self.read(name, content)
        d = dg.of_bytes(data)
        if not content.exists(d):
            lease.add_blob(d)
            content.put(data)
        self.blobs[path] = d
        return d


def _expected(path: str) -> str | None:
    """``blobs/sha256/<hex>`` names its own digest."""
    parts = path.split("/")
    if len(parts) == 3 and parts[0] == "blobs" and parts[1] == "sha256":
        return "sha256:" + parts[2]
    return None


def _store(tf, m, path: str, content, lease, source: str) -> str:
    expected = _expected(path)
    src = tf.extractfile(m)
    with content.writer(expected, m.size) as w:
        while data := src.read(1 << 20):
            w.write(data)
        if w.size != m.size:
            raise InvalidArgument(f"{source}: {m.name!r} is truncated")
        digest = w.current_digest
        if expected and digest != expected:
            raise InvalidArgument(f"{source}: {m.name!r} does not match its digest "
                                  f"(content is {digest})")
        if not content.exists(digest):
            lease.add_blob(digest)
            w.commit()
    return digest


def read_archive(stream, content, lease, source: str) -> Archive:
    """Read the outer tar once; see the module docstring."""
    arc = Archive(source)
    try:
        tf = tarfile.open(fileobj=streams.PeekReader(stream), mode="r|*")
        for m in tf:
            path = "/".join(clean_parts(m.name, f"{source}: entry"))
            if m.issym() or m.islnk():
                base = posixpath.dirname(path) if m.issym() else ""
                arc.links[path] = "/".join(clean_parts(posixpath.join(base, m.linkname),
                                                       f"{source}: link {m.name!r} →"))
            elif m.isreg() and m.size <= _IN_MEMORY_MAX:
                data = tf.extractfile(m).read()
                if len(data) != m.size:
                    raise InvalidArgument(f"{source}: {m.name!r} is truncated")
                arc.data[path] = data
            elif m.isreg():
                arc.blobs[path] = _store(tf, m, path, content, lease, source)
    except LayerError as e:
        raise InvalidArgument(str(e)) from None
    except (tarfile.TarError, EOFError) as e:
        raise InvalidArgument(f"{source}: not a valid tar archive or truncated ({e})") from None
    except streams.read_decompress_errors() as e:
        raise InvalidArgument(f"{source}: corrupt compressed data ({e})") from None
    return arc


@dataclass
class LoadItem:
    """One image found in an archive, ready for ``add_image``."""

    config: bytes
    layers: list[oci.LayerBlob]
    tags: list[str]
    manifest: str | None = None


def _layer_blob(arc: Archive, path: str, content, lease, media: str | None = None):
    digest = arc.blob(path, content, lease)
    if media is None:
        with content.open(digest) as f:
            comp = streams.sniff(streams.PeekReader(f))
        if comp not in ("none", "gzip", "zstd"):
            raise InvalidArgument(f"{arc.source}: layer {path!r} uses unsupported {comp} compression")
        media = oci.layer_media_type(comp)
    return oci.LayerBlob(digest, media, content.size(digest))


def docker_items(arc: Archive, content, lease) -> list[LoadItem]:
    """Images listed in ``manifest.json`` (docker-archive)."""
    doc = oci_json_list(arc.read("manifest.json", content), f"{arc.source}: manifest.json")
    items = []
    for n, entry in enumerate(doc):
        what = f"{arc.source}: manifest.json entry {n}"
        if not isinstance(entry, dict) or not isinstance(entry.get("Config"), str):
            raise InvalidArgument(f"{what}: missing Config")
        layers = entry.get("Layers") or []
        blobs = [_layer_blob(arc, p, content, lease) for p in layers]
        tags = [str(reference.parse(t)) for t in entry.get("RepoTags") or []]
        items.append(LoadItem(arc.read(entry["Config"], content), blobs, tags))
    return items


def oci_json_list(data: bytes, what: str) -> list:
    import json
    try:
        doc = json.loads(data)
    except ValueError as e:
        raise InvalidArgument(f"{what}: not valid JSON ({e})") from None
    if not isinstance(doc, list):
        raise InvalidArgument(f"{what}: expected a JSON list")
    return doc


def _verified(arc: Archive, desc: dict, content, what: str) -> bytes:
    digest = desc.get("digest", "")
    dg.validate(digest)
    data = arc.read(f"blobs/sha256/{dg.hex_of(digest)}", content)
    if dg.of_bytes(data) != digest:
        raise InvalidArgument(f"{what}: blob {digest} does not match its digest")
    return data


def _pick_manifests(arc: Archive, desc: dict, content, depth: int = 0) -> list[dict]:
    """Follow an index entry down to image manifests (this machine's platform)."""
    media = desc.get("mediaType", "")
    if media not in oci.INDEX_TYPES:
        return [desc]
    if depth > 4:
        raise InvalidArgument(f"{arc.source}: image index nested too deeply")
    index = oci.parse_json(_verified(arc, desc, content, arc.source), "image index")
    from dockyard.image.importer import go_arch
    subs = index.get("manifests") or []
    local = [d for d in subs if (d.get("platform") or {}).get("architecture") == go_arch()]
    chosen = (local or [d for d in subs if arc.has(f"blobs/sha256/{dg.hex_of(d['digest'])}")])[:1]
    out = []
    for d in chosen:
        d = {**d, "annotations": {**(desc.get("annotations") or {}), **(d.get("annotations") or {})}}
        out += _pick_manifests(arc, d, content, depth + 1)
    return out


def _oci_tags(desc: dict) -> list[str]:
    ann = desc.get("annotations") or {}
    for key in ("io.containerd.image.name", "org.opencontainers.image.ref.name"):
        name = ann.get(key)
        if name and ("/" in name or ":" in name or key.startswith("io.containerd")):
            try:
                return [str(reference.parse(name))]
            except InvalidArgument:
                continue
    return []


def oci_items(arc: Archive, content, lease) -> list[LoadItem]:
    """Images listed in ``index.json`` (OCI image layout)."""
    index = oci.parse_json(arc.read("index.json", content), f"{arc.source}: index.json")
    items = []
    for top in index.get("manifests") or []:
        for desc in _pick_manifests(arc, top, content):
            what = f"{arc.source}: manifest {desc.get('digest')}"
            raw = _verified(arc, desc, content, what)
            man = oci.parse_json(raw, what)
            config = _verified(arc, man.get("config") or {}, content, what)
            layers = [_layer_blob(arc, f"blobs/sha256/{dg.hex_of(l['digest'])}", content, lease,
                                  l.get("mediaType")) for l in man.get("layers") or []]
            mdigest = arc.blob(f"blobs/sha256/{dg.hex_of(desc['digest'])}", content, lease)
            items.append(LoadItem(config, layers, _oci_tags(desc), mdigest))
    return items


def load_items(arc: Archive, content, lease) -> list[LoadItem]:
    """The images in an archive: manifest.json first (like docker), else index.json."""
    if arc.has("manifest.json"):
        return docker_items(arc, content, lease)
    if arc.has("index.json"):
        return oci_items(arc, content, lease)
    raise InvalidArgument(f"{arc.source}: not an image archive (no manifest.json or index.json)")
