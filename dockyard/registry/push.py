"""Pushing an image: blobs (concurrent, skipped or mounted when possible) → manifest.

Per layer, cheapest first:

1. ``HEAD /v2/<repo>/blobs/<digest>``: the repository has it → "Layer already exists".
2. Cross-repository mount (``POST …/uploads/?mount=<digest>&from=<repo>``) when we
   know another repository on the same registry holds the blob → "Mounted from x".
3. Upload: small blobs monolithic (POST, then PUT with the body); large ones in
   chunks (PATCH with ``Content-Range``, then PUT ``?digest=``). A chunk that fails
   is resumed from the offset the registry reports (``GET`` upload status), or the
   upload starts over in a new session when the registry has dropped the old one.

Blobs come straight from the content store with their known digests: nothing is
hashed again. The manifest goes last, so a registry never sees a tag whose blobs
are missing.
"""
from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlencode

from dockyard.errors import DockyardError, Unavailable
from dockyard.oci import digest as dg
from dockyard.oci.reference import Reference
from dockyard.registry.client import RegistryClient, check
from dockyard.registry.progress import Channel

CONCURRENCY = 3
MONOLITHIC_MAX = 8 << 20
CHUNK = 64 << 20
ATTEMPTS = 4
SOURCES_DDL = """CREATE TABLE IF NOT EXISTS registry_blob_sources (
    digest TEXT NOT NULL, registry TEXT NOT NULL, repo TEXT NOT NULL,
    PRIMARY KEY (digest, registry, repo))"""


def record_sources(meta, registry: str, repo: str, digests: list[str]) -> None:
    """Remember that ``registry/repo`` holds these blobs (for cross-repository mounts)."""
    meta.ensure_schema("registry_blob_sources", SOURCES_DDL)
    with meta.tx() as db:
        db.executemany("INSERT OR IGNORE INTO registry_blob_sources VALUES (?, ?, ?)",
                       [(d, registry, repo) for d in digests])


def known_sources(meta, registry: str, digest: str) -> list[str]:
    meta.ensure_schema("registry_blob_sources", SOURCES_DDL)
    rows = meta.query("SELECT repo FROM registry_blob_sources WHERE digest=? AND registry=?",
                      (digest, registry))
    return [r[0] for r in rows]


class _Section:
    """File-like view of ``[start, start+length)`` of an open file, reporting progress."""

    def __init__(self, f, start: int, length: int, report):
        self.f, self.left, self.report = f, length, report
        self.pos = start
        f.seek(start)

    def read(self, n: int = -1) -> bytes:
        n = self.left if n < 0 else min(n, self.left)
        data = self.f.read(n)
        self.left -= len(data)
        self.pos += len(data)
        self.report(self.pos)
        return data


class Pusher:
    """One push of one tag; reports docker's progress messages into ``ch``."""

    def __init__(self, engine, client: RegistryClient, ref: Reference, ch: Channel):
        self.engine, self.client, self.ref, self.ch = engine, client, ref, ch
        self.repo = ref.path
        self.scope = f"repository:{ref.path}:pull,push"
        self._announced = False

    def run(self, manifest: bytes, media_type: str, config: tuple[str, int],
            layers: list[tuple[str, int, str]]) -> str:
        """Upload layers and config, then put the manifest; return its digest."""
        self.announce()
        for digest, _, _ in reversed(layers):
            self.ch.status("Preparing", dg.short_id(digest))
        for n, (digest, _, _) in enumerate(reversed(layers)):
            if n >= CONCURRENCY:
                self.ch.status("Waiting", dg.short_id(digest))
        unique = list({d: s for d, s, _ in reversed(layers)}.items())
        with ThreadPoolExecutor(CONCURRENCY, thread_name_prefix="push") as pool:
            futures = [pool.submit(self.push_blob, d, s, True) for d, s in unique]
            futures.append(pool.submit(self.push_blob, config[0], config[1], False))
            for f in futures:
                f.result()
        digest = self.put_manifest(manifest, media_type)
        record_sources(self.engine.meta, self.client.host, self.repo,
                       [d for d, _, _ in layers] + [config[0]])
        tag = self.ref.tag or "latest"
        self.ch.status(f"{tag}: digest: {digest} size: {len(manifest)}")
        self.ch.put({"progressDetail": {}, "aux": {"Tag": tag, "Digest": digest,
                                                   "Size": len(manifest)}})
        return digest

    def announce(self) -> None:
        """The first line of docker's push output (once)."""
        if not self._announced:
            self._announced = True
            self.ch.status(f"The push refers to repository [{self.ref.name}]")

    def push_blob(self, digest: str, size: int, show: bool) -> None:
        ident = dg.short_id(digest) if show else None
        say = (lambda text: self.ch.status(text, ident)) if show else (lambda text: None)
        if self._exists(digest):
            say("Layer already exists")
            return
        location = self._start_upload(digest, say)
        if location is None:
            return   # mounted; _start_upload said so
        if size <= MONOLITHIC_MAX:
            self._monolithic(location, digest, size)
        else:
            self._chunked(location, digest, size, ident)
        say("Pushed")

    def _exists(self, digest: str) -> bool:
        r = self.client.request("HEAD", f"/v2/{self.repo}/blobs/{digest}", scope=self.scope)
        r.body()
        return r.status == 200

    def _start_upload(self, digest: str, say) -> str | None:
        """Open an upload session (trying a cross-repo mount first); None when mounted."""
        for src in known_sources(self.engine.meta, self.client.host, digest):
            if src == self.repo:
                continue
            q = urlencode({"mount": digest, "from": src})
            r = self.client.request("POST", f"/v2/{self.repo}/blobs/uploads/?{q}",
                                    scope=f"{self.scope} repository:{src}:pull", body=b"")
            loc = r.headers.get("location")
            r.body()
            if r.status == 201:
                say(f"Mounted from {src}")
                return None
            if r.status == 202 and loc:
                return loc
        return self._new_upload(digest)

    def _new_upload(self, digest: str) -> str:
        r = self.client.request("POST", f"/v2/{self.repo}/blobs/uploads/", scope=self.scope,
                                body=b"")
        check(r, f"starting upload of {digest} to {self.ref.name}", ok=(202,))
        r.body()
        return r.headers["location"]

    @staticmethod
    def _with_digest(location: str, digest: str) -> str:
        return location + ("&" if "?" in location else "?") + urlencode({"digest": digest})

    def _monolithic(self, location: str, digest: str, size: int) -> None:
        data = self.engine.content.read(digest)
        r = self.client.request("PUT", self._with_digest(location, digest), scope=self.scope,
                                headers={"Content-Type": "application/octet-stream"}, body=data)
        check(r, f"uploading {digest} to {self.ref.name}", ok=(201,))
        r.body()

    def _chunked(self, location: str, digest: str, size: int, ident: str | None) -> None:
        offset, attempt = 0, 0
        with self.engine.content.open(digest) as f:
            while offset < size:
                length = min(CHUNK, size - offset)
                try:
                    location = self._patch(location, f, offset, length, size, ident)
                    offset += length
                except (OSError, Unavailable) as e:
                    attempt += 1
                    if attempt >= ATTEMPTS:
                        raise Unavailable(f"upload of {digest} to {self.client.host} failed "
                                          f"at byte {offset}: {e}") from e
                    time.sleep(0.2 * 2 ** attempt)
                    location, offset = self._resume_point(location, digest)
        r = self.client.request("PUT", self._with_digest(location, digest), scope=self.scope,
                                body=b"")
        check(r, f"finishing upload of {digest} to {self.ref.name}", ok=(201,))
        r.body()

    def _patch(self, location, f, offset, length, size, ident) -> str:
        def report(pos: int) -> None:
            if ident:
                self.ch.progress("Pushing", ident, pos, size)
        hdrs = {"Content-Type": "application/octet-stream", "Content-Length": str(length),
                "Content-Range": f"{offset}-{offset + length - 1}"}
        r = self.client.request("PATCH", location, scope=self.scope, headers=hdrs,
                                body=_Section(f, offset, length, report))
        check(r, f"uploading to {self.ref.name}", ok=(202,))
        r.body()
        return r.headers.get("location", location)

    def _resume_point(self, location: str, digest: str) -> tuple[str, int]:
        """Continue where the registry stands, or start over when it lost the session
        (distribution refuses a session whose last chunk broke half-way)."""
        try:
            return self._upload_status(location)
        except DockyardError:
            return self._new_upload(digest), 0

    def _upload_status(self, location: str) -> tuple[str, int]:
        """Where a broken upload stands: (location, next offset) from its ``Range``."""
        r = self.client.request("GET", location, scope=self.scope)
        check(r, f"upload status at {self.ref.name}", ok=(204,))
        r.body()
        end = r.headers.get("range", "0--1").rsplit("-", 1)[1]
        return r.headers.get("location", location), int(end) + 1

    def put_manifest(self, manifest: bytes, media_type: str) -> str:
        digest = dg.of_bytes(manifest)
        r = self.client.request("PUT", f"/v2/{self.repo}/manifests/{self.ref.tag or 'latest'}",
                                scope=self.scope, headers={"Content-Type": media_type},
                                body=manifest)
        check(r, f"pushing manifest for {self.ref.familiar}", ok=(201,))
        r.body()
        got = r.headers.get("docker-content-digest")
        if got and got != digest:
            raise DockyardError(f"registry {self.client.host} stored manifest as {got}, "
                                f"expected {digest}")
        return digest
