"""RegistryService: pull, push, login and distribution inspect for the engine (``engine.registry``).

Registry settings come from the environment of the daemon:

- ``DOCKYARD_INSECURE_REGISTRIES``: comma-separated ``host[:port]`` or CIDR ranges that
  may be reached over plain HTTP or unverified TLS, besides loopback (as in docker).
- ``DOCKYARD_CERTS_D``: colon-separated certs.d roots (default
  ``/etc/dockyard/certs.d:/etc/docker/certs.d``).

The attributes ``insecure_registries`` and ``certs_roots`` can be set directly too.
"""
from __future__ import annotations

import os
import threading
from typing import Iterator

from dockyard.errors import DockyardError, InvalidArgument, NotFound
from dockyard.oci import image as oi
from dockyard.oci import reference
from dockyard.registry import config, manifests
from dockyard.registry.client import DEFAULT_INSECURE, RegistryClient, check
from dockyard.registry.progress import Channel, run_streaming
from dockyard.registry.pull import Puller
from dockyard.registry.push import Pusher


class RegistryService:
    """The engine's registry operations; see the module docstring for settings."""

    def __init__(self, engine):
        self.engine = engine
        env = os.environ.get("DOCKYARD_INSECURE_REGISTRIES", "")
        self.insecure_registries = DEFAULT_INSECURE + tuple(
            x.strip() for x in env.split(",") if x.strip()) + \
            tuple(getattr(engine, "insecure_registries", ()))  # dockyardd --insecure-registry
        roots = os.environ.get("DOCKYARD_CERTS_D")
        self.certs_roots = tuple(roots.split(":")) if roots else config.CERTS_DIRS
        self._schemes: dict[str, str] = {}
        self._lock = threading.Lock()
        # images being pulled, listed by `images` as <none> like docker's partial images
        self._partial: dict[str, dict] = {}

    # -- images still downloading ---------------------------------------------------
    def partial_begin(self, image_id: str, config: bytes, layers: list[dict]) -> dict:
        """Record a pull in progress (its ID is known once the config is in)."""
        from dockyard.oci import image as oi
        created = oi.parse_rfc3339(oi.parse_json(config, "image config").get("created"))
        entry = {"id": image_id, "created": created, "done": {l["digest"]: 0 for l in layers}}
        with self._lock:
            self._partial.setdefault(image_id, entry)
            return self._partial[image_id]

    def partial_progress(self, digest: str, done: int) -> None:
        with self._lock:
            for entry in self._partial.values():
                if digest in entry["done"]:
                    entry["done"][digest] = done

    def partial_end(self, image_id: str, entry: dict) -> None:
        with self._lock:
            if self._partial.get(image_id) is entry:
                del self._partial[image_id]

    def partial_images(self) -> list[dict]:
        """``GET /images/json`` entries for pulls still under way: ``<none>:<none>``."""
        with self._lock:
            return [{"Id": e["id"], "ParentId": "", "RepoTags": ["<none>:<none>"],
                     "RepoDigests": [], "Created": int(e["created"]),
                     "Size": sum(e["done"].values()), "SharedSize": -1,
                     "VirtualSize": sum(e["done"].values()), "Labels": None, "Containers": -1}
                    for e in self._partial.values()]

    def client(self, host: str, auth: dict | None) -> RegistryClient:
        """A client for ``host``; the http/https choice is remembered across operations."""
        c = RegistryClient(host, auth, self.insecure_registries, self.certs_roots)
        c._scheme = self._schemes.get(host)
        return c

    def _remember(self, c: RegistryClient) -> None:
        if c._scheme:
            with self._lock:
                self._schemes[c.host] = c._scheme

    # -- pull ----------------------------------------------------------------------------------
    def pull_stream(self, ref: str, tag: str | None = None, platform: str | None = None,
                    auth: dict | None = None) -> Iterator[dict]:
        """Pull ``ref`` (``tag`` overrides its tag; no tag at all pulls every tag).

        Yields docker's progress messages; a failure arrives as the last message
        (``{"errorDetail": {"message": m}, "error": m}``).
        """
        parsed = self._parse_pull(ref, tag)
        want = manifests.parse_platform(platform)
        client = self.client(parsed.registry_host, auth)
        try:
            if parsed.tag or parsed.digest:
                first = Puller(self.engine, client, parsed, None, want)
                first.resolve()
                pullers = [first]
            else:
                pullers = [Puller(self.engine, client, r, None, want)
                           for r in self._all_tags(client, parsed)]
        except BaseException:
            client.close()
            raise
        return run_streaming(self._pull_work, client, pullers)

    def pull(self, ref: str, platform: str | None = None, auth: dict | None = None,
             on_message=None) -> None:
        """Pull without streaming (e.g. for a build's FROM); raises on failure."""
        for msg in self.pull_stream(ref, None, platform, auth):
            if "error" in msg:
                raise DockyardError(msg["error"])
            if on_message:
                on_message(msg)

    @staticmethod
    def _parse_pull(ref: str, tag: str | None) -> reference.Reference:
        parsed = reference.parse(ref, default_tag=False)
        if tag and parsed.digest is None:
            if tag.startswith("sha256:"):
                return reference.parse(f"{parsed.name}@{tag}")
            return reference.parse(f"{parsed.name}:{tag}")
        return parsed

    def _pull_work(self, ch: Channel, client: RegistryClient, pullers: list[Puller]) -> None:
        try:
            for p in pullers:
                p.ch = ch
                p.run()
                self._remember(client)
        finally:
            client.close()

    def _all_tags(self, client: RegistryClient, ref: reference.Reference):
        r = client.request("GET", f"/v2/{ref.path}/tags/list",
                           scope=f"repository:{ref.path}:pull")
        check(r, f"tags of {ref.familiar_name}")
        tags = sorted((r.json() or {}).get("tags") or [])
        if not tags:
            raise NotFound(f"repository {ref.familiar_name} has no tags")
        return [ref.with_tag(t) for t in tags]

    # -- push ------------------------------------------------------------------------------------
    def push_stream(self, name: str, tag: str | None = None,
                    auth: dict | None = None) -> Iterator[dict]:
        """Push a local image by name (``tag`` overrides); docker's progress messages.

        A name without a tag and no ``tag`` pushes every local tag of the repository, one
        after the other (dockerd's rule; ``docker push --all-tags`` sends that)."""
        ref = reference.parse(name, default_tag=False)
        if ref.digest:
            raise InvalidArgument(f"cannot push a digest reference: {name}")
        if tag or ref.tag:
            refs = [reference.parse(f"{ref.name}:{tag or ref.tag}")]
        else:
            refs = self._local_tags(ref.name)
            if not refs:
                raise NotFound(f"An image does not exist locally with the tag: "
                               f"{ref.familiar_name}")
        items = []
        for r in refs:
            try:
                image = self.engine.images.get(str(r))
            except NotFound:
                raise NotFound(f"An image does not exist locally with the tag: "
                               f"{r.familiar_name}") from None
            items.append((r, getattr(image, "id", None) or image["Id"]))
        return run_streaming(self._push_work, items, auth)

    def _local_tags(self, name: str) -> list[reference.Reference]:
        """Every local ``name:tag``, by tag."""
        prefix = name + ":"
        rows = self.engine.meta.query("SELECT ref FROM image_refs WHERE substr(ref, 1, ?) = ?",
                                      (len(prefix), prefix))
        refs = [reference.parse(r["ref"]) for r in rows]
        return sorted((r for r in refs if r.name == name and r.tag and not r.digest),
                      key=lambda r: r.tag)

    def _push_work(self, ch: Channel, items: list, auth) -> None:
        client = self.client(items[0][0].registry_host, auth)
        pushed = []
        try:
            for ref, image_id in items:
                pusher = Pusher(self.engine, client, ref, ch)
                pusher._announced = bool(pushed)  # docker names the repository once
                pusher.announce()  # before layers are compressed (a layer's first push)
                manifest, media_type, config_digest, layers = \
                    self.engine.images.layer_blobs_for_push(image_id)
                config_size = self.engine.content.size(config_digest)
                digest = pusher.run(manifest, media_type, (config_digest, config_size), layers)
                pushed.append((image_id, f"{ref.name}@{digest}"))
            self._remember(client)
        finally:
            client.close()
            for image_id, repo_digest in pushed:
                self._record_repo_digest(image_id, repo_digest)

    def _record_repo_digest(self, image_id: str, repo_digest: str) -> None:
        add = getattr(self.engine.images, "add_repo_digest", None)
        if add:
            add(image_id, repo_digest)

    # -- login / inspect ---------------------------------------------------------------------------
    def login(self, username: str, password: str, serveraddress: str | None) -> dict:
        """Check credentials against ``serveraddress``; docker's ``/auth`` answer."""
        if not username or not password:
            raise InvalidArgument("login: username and password are required")
        host = config.normalize_server(serveraddress)
        host = reference.Reference(host, "x").registry_host
        client = self.client(host, {"username": username, "password": password})
        try:
            check(client.ping(), f"login to {host}")
            self._remember(client)
        finally:
            client.close()
        return {"Status": "Login Succeeded", "IdentityToken": ""}

    def distribution_inspect(self, name: str, auth: dict | None = None) -> dict:
        """``GET /distribution/{name}/json``: the descriptor and platforms of a remote image."""
        ref = reference.parse(name)
        client = self.client(ref.registry_host, auth)
        scope = f"repository:{ref.path}:pull"
        try:
            data, media, digest = manifests.fetch(client, ref.path, ref.digest or ref.tag,
                                                  scope, ref.familiar)
            doc = oi.parse_json(data, f"manifest for {ref.familiar}")
            platforms = self._platforms(client, ref, doc, media, scope)
        finally:
            client.close()
        return {"Descriptor": {"mediaType": media, "digest": digest, "size": len(data)},
                "Platforms": platforms}

    def _platforms(self, client, ref, doc, media, scope) -> list[dict]:
        if media in oi.INDEX_TYPES:
            return [m.get("platform") for m in doc.get("manifests") or [] if m.get("platform")]
        r = client.request("GET", f"/v2/{ref.path}/blobs/{doc['config']['digest']}", scope=scope)
        check(r, f"config of {ref.familiar}")
        cfg = r.json()
        plat = {"architecture": cfg.get("architecture", ""), "os": cfg.get("os", "")}
        if cfg.get("variant"):
            plat["variant"] = cfg["variant"]
        return [plat]
