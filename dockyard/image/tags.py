"""Tags, repo digests, removal (docker's ``rmi`` rules) and garbage collection of layers."""
from __future__ import annotations

import re
import time

from dockyard.errors import Conflict, InvalidArgument, NotFound
from dockyard.oci import digest as dg
from dockyard.oci import reference

_HEX64 = re.compile(r"^[a-f0-9]{64}$")


def _familiar(ref: str) -> str:
    return reference.parse(ref).familiar


class TagsMixin:
    """Part of ImageService: tag, untag, remove, prune."""

    # -- tags --------------------------------------------------------------------------
    def _tag(self, db, image_id: str, ref: str) -> None:
        db.execute("INSERT OR REPLACE INTO image_refs VALUES (?, ?, ?)", (ref, image_id, time.time()))

    def _add_digest(self, db, image_id: str, repo_digest: str) -> None:
        db.execute("INSERT OR IGNORE INTO image_digests VALUES (?, ?)", (repo_digest, image_id))

    def tag(self, image: str, ref: str) -> str:
        """Point tag ``ref`` at ``image``; returns the normalised reference."""
        parsed = reference.parse(ref)
        if parsed.digest:
            raise InvalidArgument(f"refusing to create a tag with a digest reference: {ref}")
        if _HEX64.match(parsed.path.rsplit("/", 1)[-1]):
            raise InvalidArgument(f"invalid repository name ({ref}), cannot specify "
                                  "64-byte hexadecimal strings")
        with self.lock:
            image_id = self.resolve(image)
            with self.meta.tx() as db:
                self._tag(db, image_id, str(parsed))
        return str(parsed)

    def add_repo_digest(self, image_id: str, repo_digest: str) -> None:
        """Remember ``name@sha256:…`` for an image (after a pull or a push)."""
        with self.meta.tx() as db:
            self._add_digest(db, image_id, repo_digest)

    def untag(self, ref: str) -> str:
        """Remove one tag or digest reference; returns the image it pointed at."""
        parsed = reference.parse(ref)
        table = "image_digests" if parsed.digest else "image_refs"
        key = f"{parsed.name}@{parsed.digest}" if parsed.digest else str(parsed)
        with self.lock, self.meta.tx() as db:
            row = db.execute(f"SELECT image_id FROM {table} WHERE ref=?", (key,)).fetchone()
            if row is None:
                raise NotFound(f"No such image: {ref}")
            db.execute(f"DELETE FROM {table} WHERE ref=?", (key,))
        return row[0]

    # -- removal -----------------------------------------------------------------------
    def _names_reference(self, name: str, image_id: str) -> str | None:
        """The normalised reference ``name`` spells, if it names the image by reference."""
        hexpart = name.removeprefix("sha256:")
        if image_id.removeprefix("sha256:").startswith(hexpart) and \
                self._by_reference(name) != image_id:
            return None
        try:
            parsed = reference.parse(name)
        except InvalidArgument:
            return None
        return f"{parsed.name}@{parsed.digest}" if parsed.digest else str(parsed)

    def children(self, image_id: str) -> list[str]:
        return [r[0] for r in self.meta.query("SELECT id FROM images WHERE parent=?", (image_id,))]

    def remove(self, name: str, force: bool = False, noprune: bool = False) -> list[dict]:
        """``docker rmi``: untag, and delete the image once nothing names it.

        Returns docker's records: ``[{"Untagged": "x:latest"}, {"Deleted": "sha256:…"}]``.
        Raises Conflict when a container uses the image (unless ``force``) or when it is
        named in several repositories and asked for by ID (unless ``force``).
        """
        with self.lock:
            image_id = self.resolve(name)
            img = self.load(image_id)
            ref = self._names_reference(name, image_id)
            if ref:
                return self._remove_reference(img, ref, force, noprune)
            return self._remove_by_id(img, name, force, noprune)

    def _remove_reference(self, img, ref: str, force: bool, noprune: bool) -> list[dict]:
        names = img.refs + img.digests
        last = len(names) == 1 or all("@" in n for n in names if n != ref)
        users = self.in_use_check(img.id)
        if last and users and not force:
            raise Conflict(f'conflict: unable to remove repository reference "{_familiar(ref)}" '
                           f"(must force) - container {dg.short_id(users[0])} is using its "
                           f"referenced image {dg.short_id(img.id)}")
        untag = [ref] if not last else [ref] + [n for n in names if n != ref]
        out = [{"Untagged": _familiar(n)} for n in untag]
        with self.meta.tx() as db:
            for n in untag:
                db.execute("DELETE FROM image_refs WHERE ref=?", (n,))
                db.execute("DELETE FROM image_digests WHERE ref=?", (n,))
        if last and not users and not self.children(img.id):
            out += self._delete(img, noprune)
        return out

    def _remove_by_id(self, img, name: str, force: bool, noprune: bool) -> list[dict]:
        repos = {reference.parse(n).name for n in img.refs + img.digests}
        short = dg.short_id(img.id)
        if len(repos) > 1 and not force:
            raise Conflict(f"conflict: unable to delete {short} (must be forced) - image is "
                           "referenced in multiple repositories")
        if self.children(img.id):
            raise Conflict(f"conflict: unable to delete {short} (cannot be forced) - image has "
                           "dependent child images")
        users = self.in_use_check(img.id)
        if users and not force:
            raise Conflict(f"conflict: unable to delete {short} (must be forced) - image is "
                           f"being used by container {dg.short_id(users[0])}")
        out = [{"Untagged": _familiar(n)} for n in img.refs + img.digests]
        with self.meta.tx() as db:
            db.execute("DELETE FROM image_refs WHERE image_id=?", (img.id,))
            db.execute("DELETE FROM image_digests WHERE image_id=?", (img.id,))
        if not users:
            out += self._delete(img, noprune)
        return out

    def _delete(self, img, noprune: bool) -> list[dict]:
        """Drop the image record, then layers/blobs nothing else uses; maybe its parent."""
        with self.meta.tx() as db:
            for table in ("image_refs", "image_digests", "image_layers"):
                db.execute(f"DELETE FROM {table} WHERE image_id=?", (img.id,))
            db.execute("DELETE FROM images WHERE id=?", (img.id,))
        out = [{"Deleted": img.id}]
        out += [{"Deleted": c} for c in self._gc_layers(img.chain_ids)]
        self._drop_blob(img.id)
        if img.manifest:
            self._drop_blob(img.manifest)
        if img.parent and not noprune:
            out += self._prune_parent(img.parent)
        return out

    def _prune_parent(self, parent_id: str) -> list[dict]:
        try:
            parent = self.load(parent_id)
        except NotFound:
            return []
        if parent.refs or parent.digests or self.children(parent_id) or \
                self.in_use_check(parent_id):
            return []
        return self._delete(parent, False)

    def _gc_layers(self, chains: list[str]) -> list[str]:
        """Remove layers (top first) that no image uses any more; return their chain IDs."""
        removed = []
        for chain in reversed(chains):
            if self.meta.query_one("SELECT 1 FROM image_layers WHERE chain_id=?", (chain,)):
                continue
            try:
                self.snapshots.remove(chain)
            except Exception:  # noqa: BLE001 - a container or build still sits on it
                continue
            row = self.meta.query_one("SELECT diff_id FROM layers WHERE chain_id=?", (chain,))
            with self.meta.tx() as db:
                db.execute("DELETE FROM layers WHERE chain_id=?", (chain,))
            if row:
                self._gc_blobs(row[0])
            removed.append(chain)
        return removed

    def _gc_blobs(self, diff_id: str) -> None:
        if self.meta.query_one("SELECT 1 FROM layers WHERE diff_id=?", (diff_id,)):
            return
        blobs = [r[0] for r in self.meta.query(
            "SELECT digest FROM layer_blobs WHERE diff_id=?", (diff_id,))]
        with self.meta.tx() as db:
            db.execute("DELETE FROM layer_blobs WHERE diff_id=?", (diff_id,))
        for digest in blobs:
            self._drop_blob(digest)

    # -- prune -------------------------------------------------------------------------
    def prune(self, all_images: bool = False, labels: list[str] | None = None,
              until: float | None = None) -> dict:
        """``image prune``: remove dangling (or, with ``all_images``, unused) images; only
        those created before ``until`` when given."""
        deleted: list[dict] = []
        reclaimed = 0
        with self.lock:
            for image_id in reversed(self.ids()):
                try:
                    img = self.load(image_id)
                except NotFound:
                    continue  # removed as a parent of an earlier one
                if (img.refs and not all_images) or self.in_use_check(image_id) or \
                        self.children(image_id) or not _labels_match(img, labels or []):
                    continue
                if until is not None and img.created >= until:
                    continue
                before = self._disk_usage(img)
                deleted += self._remove_by_id(img, image_id, True, False)
                reclaimed += before
        return {"ImagesDeleted": deleted or None, "SpaceReclaimed": reclaimed}

    def _disk_usage(self, img) -> int:
        """Bytes of layers only this image uses (what deleting it frees)."""
        total = 0
        for chain in img.chain_ids:
            users = self.meta.query_one(
                "SELECT COUNT(DISTINCT image_id) FROM image_layers WHERE chain_id=?", (chain,))
            if users and users[0] <= 1:
                row = self.meta.query_one("SELECT size FROM layers WHERE chain_id=?", (chain,))
                total += row[0] if row else 0
        return total


def _labels_match(img, filters: list[str]) -> bool:
    """docker's ``label=key``, ``label=key=value``, ``label!=…`` filters."""
    labels = (img.config.get("config") or {}).get("Labels") or {}
    for f in filters:
        neg = f.startswith("!")
        key, eq, value = f.lstrip("!").partition("=")
        hit = key in labels and (not eq or labels[key] == value)
        if hit == neg:
            return False
    return True
