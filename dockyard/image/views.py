"""docker's JSON shapes for images: /images/json, /images/{name}/json, history, df."""
from __future__ import annotations

import fnmatch

from dockyard.errors import InvalidArgument
from dockyard.oci import image as oci
from dockyard.oci import reference

_FILTERS = ("dangling", "reference", "label", "before", "since", "until")


def familiar(ref: str) -> str:
    return reference.parse(ref).familiar


def _ref_matches(pattern: str, ref: str) -> bool:
    """docker's ``reference=`` filter: glob on the familiar name, or on name:tag."""
    parsed = reference.parse(ref)
    if fnmatch.fnmatchcase(parsed.familiar_name, pattern):
        return True
    tagged = f"{parsed.familiar_name}:{parsed.tag}" if parsed.tag else parsed.familiar
    return fnmatch.fnmatchcase(tagged, pattern) or fnmatch.fnmatchcase(parsed.familiar, pattern)


class QueryMixin:
    """Part of ImageService: list, inspect, history, df."""

    def summary(self, img) -> dict:
        """One entry of ``GET /images/json``."""
        size = self.size(img.id)
        return {"Id": img.id, "ParentId": img.parent or "",
                "RepoTags": [familiar(r) for r in img.refs],
                "RepoDigests": [familiar(d) for d in img.digests],
                "Created": int(img.created), "Size": size, "SharedSize": -1,
                "VirtualSize": size, "Labels": (img.config.get("config") or {}).get("Labels"),
                "Containers": -1}

    def list(self, all: bool = False, filters: dict | None = None) -> list[dict]:
        """docker's image list, newest first; ``filters`` maps a filter name to its values."""
        filters = filters or {}
        unknown = set(filters) - set(_FILTERS)
        if unknown:
            raise InvalidArgument(f"invalid filter '{sorted(unknown)[0]}'")
        images = [self.load(i) for i in self.ids()]
        parents = {img.parent for img in images if img.parent}
        # dangling=true lists only untagged leaves (dockerd's imageStore.Heads()), even
        # with -a; otherwise an untagged image with children (a build step) needs -a
        dangling_only = any(str(v).lower() in ("true", "1") for v in filters.get("dangling", []))
        out = []
        for img in images:
            if not img.refs and img.id in parents and (dangling_only or not all):
                continue  # an intermediate (build) image
            entry = self._filtered(img, filters)
            if entry is not None:
                out.append(entry)
        out += self._partial(out, filters)
        out.sort(key=lambda e: e["Created"], reverse=True)
        return out

    def _partial(self, listed: list[dict], filters: dict) -> list[dict]:
        """Pulls under way, as docker shows them: ``<none>`` with the size so far."""
        registry = self.engine.loaded("registry")
        if registry is None or set(filters) - {"dangling"}:
            return []
        if any(str(v).lower() in ("false", "0") for v in filters.get("dangling", [])):
            return []
        have = {e["Id"] for e in listed}
        return [p for p in registry.partial_images() if p["Id"] not in have]

    def _filtered(self, img, filters: dict) -> dict | None:
        for value in filters.get("dangling", []):
            want = str(value).lower() in ("true", "1")
            if want == bool(img.refs):
                return None
        for key, cmp in (("before", lambda a, b: a < b), ("since", lambda a, b: a > b)):
            for value in filters.get(key, []):
                if not cmp(img.created, self.get(value).created):
                    return None
        from dockyard.image.tags import _labels_match
        if not _labels_match(img, filters.get("label", [])):
            return None
        entry = self.summary(img)
        patterns = filters.get("reference", [])
        if patterns:
            refs = [r for r in img.refs if any(_ref_matches(p, r) for p in patterns)]
            if not refs:
                return None
            entry["RepoTags"] = [familiar(r) for r in refs]
        return entry

    def inspect(self, name: str) -> dict:
        """docker's ``GET /images/{name}/json``."""
        img = self.get(name)
        cfg = img.config
        size = self.size(img.id)
        out = {"Id": img.id, "RepoTags": [familiar(r) for r in img.refs],
               "RepoDigests": [familiar(d) for d in img.digests], "Parent": img.parent or "",
               "Comment": cfg.get("comment", ""), "Created": cfg.get("created", ""),
               "DockerVersion": cfg.get("docker_version", ""), "Author": cfg.get("author", ""),
               "Config": cfg.get("config") or {}, "Architecture": cfg.get("architecture", ""),
               "Os": cfg.get("os", ""), "Size": size, "VirtualSize": size,
               "GraphDriver": self._graph_driver(img),
               "RootFS": {"Type": "layers", "Layers": img.diff_ids},
               "Metadata": {"LastTagTime": self._last_tag_time(img.id)}}
        if cfg.get("variant"):
            out["Variant"] = cfg["variant"]
        return out

    def _graph_driver(self, img) -> dict:
        if not img.chain_ids:
            return {"Name": "overlay2", "Data": None}
        dirs = self.snapshots.lowerdirs(img.chain_ids[-1])
        data = {"UpperDir": dirs[0]}
        if len(dirs) > 1:
            data["LowerDir"] = ":".join(dirs[1:])
        return {"Name": "overlay2", "Data": data}

    def _last_tag_time(self, image_id: str) -> str:
        row = self.meta.query_one("SELECT MAX(tagged) FROM image_refs WHERE image_id=?",
                                  (image_id,))
        return oci.now_rfc3339(row[0]) if row and row[0] else "0001-01-01T00:00:00Z"

    def history(self, name: str) -> list[dict]:
        """docker's ``GET /images/{name}/history``: newest step first."""
        img = self.get(name)
        steps = img.config.get("history") or []
        sizes = [self.meta.query_one("SELECT size FROM layers WHERE chain_id=?", (c,))
                 for c in img.chain_ids]
        ids = self._history_ids(img, len(steps))
        out, layer = [], 0
        for i, step in enumerate(steps):
            size = 0
            if not step.get("empty_layer"):
                size = sizes[layer][0] if layer < len(sizes) and sizes[layer] else 0
                layer += 1
            out.append({"Id": ids.get(i, "<missing>"),
                        "Created": int(oci.parse_rfc3339(step.get("created"))),
                        "CreatedBy": step.get("created_by", ""), "Tags": None,
                        "Size": size, "Comment": step.get("comment", "")})
        out.reverse()
        if out:
            out[0]["Tags"] = [familiar(r) for r in img.refs] or None
        return out

    def _history_ids(self, img, n: int) -> dict[int, str]:
        """Which history steps are local images: the image itself and its parents."""
        ids, cur = {}, img
        while cur is not None and n > 0:
            ids[n - 1] = cur.id
            try:
                cur = self.load(cur.parent) if cur.parent else None
            except Exception:  # noqa: BLE001 - the parent was deleted
                cur = None
            n = len(cur.config.get("history") or []) if cur else 0
        return ids

    def df(self) -> dict:
        """The images part of ``GET /system/df``: per-image sizes, sharing and users."""
        images = []
        counts: dict[str, int] = {}
        for r in self.meta.query("SELECT chain_id, COUNT(DISTINCT image_id) FROM image_layers "
                                 "GROUP BY chain_id"):
            counts[r[0]] = r[1]
        loaded = [self.load(i) for i in self.ids()]
        parents = {img.parent for img in loaded if img.parent}
        for img in loaded:
            if not img.refs and img.id in parents:
                continue  # a build's step image: dockerd lists top images only
            image_id = img.id
            entry = self.summary(img)
            entry["SharedSize"] = sum(
                (self.meta.query_one("SELECT size FROM layers WHERE chain_id=?", (c,)) or [0])[0]
                for c in img.chain_ids if counts.get(c, 0) > 1)
            entry["Containers"] = len(self.in_use_check(image_id))
            images.append(entry)
        row = self.meta.query_one("SELECT COALESCE(SUM(size), 0) FROM layers")
        return {"LayersSize": int(row[0]), "Images": images}
