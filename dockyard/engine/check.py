"""``dockyard system check``: prove the store is whole after a crash or a full disk.

Every blob is re-hashed against its name; every image must have its config blob and
every layer (a layer row and a committed snapshot); every tag must point at an image;
every container record must name an image that exists. Nothing is changed: the report
lists what is wrong, so a test (or a worried operator) can assert "objects lost = 0".
"""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Report:
    blobs: int = 0
    images: int = 0
    layers: int = 0
    tags: int = 0
    containers: int = 0
    problems: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {"Blobs": self.blobs, "Images": self.images, "Layers": self.layers,
                "Tags": self.tags, "Containers": self.containers, "Problems": self.problems,
                "OK": not self.problems}


def check_blobs(engine, report: Report) -> None:
    for digest in sorted(engine.content.list()):
        report.blobs += 1
        if not engine.content.verify(digest):
            report.problems.append(f"blob {digest}: content does not match its digest")


def check_images(engine, report: Report) -> None:
    meta, snaps, content = engine.meta, engine.snapshots, engine.content
    engine.images  # noqa: B018 - makes sure the image tables exist
    for row in meta.query("SELECT id FROM images"):
        report.images += 1
        image_id = row["id"]
        if not content.exists(image_id):
            report.problems.append(f"image {image_id}: config blob is missing")
        for lrow in meta.query("SELECT chain_id FROM image_layers WHERE image_id=? ORDER BY pos",
                               (image_id,)):
            chain = lrow["chain_id"]
            if meta.query_one("SELECT 1 FROM layers WHERE chain_id=?", (chain,)) is None:
                report.problems.append(f"image {image_id}: layer {chain} has no record")
            elif not snaps.exists(chain):
                report.problems.append(f"image {image_id}: layer {chain} has no snapshot")
    for row in meta.query("SELECT chain_id FROM layers"):
        report.layers += 1
    for row in meta.query("SELECT ref, image_id FROM image_refs"):
        report.tags += 1
        if meta.query_one("SELECT 1 FROM images WHERE id=?", (row["image_id"],)) is None:
            report.problems.append(f"tag {row['ref']}: points at missing image {row['image_id']}")


def check_containers(engine, report: Report) -> None:
    try:
        containers = engine.containers.list(all=True)
    except Exception as e:  # an unreadable record is itself a finding
        report.problems.append(f"containers: cannot list records: {e}")
        return
    for c in containers:
        report.containers += 1
        try:
            engine.images.get(c["ImageID"])
        except Exception:
            report.problems.append(f"container {c['Id'][:12]}: image {c['ImageID']} is missing")


def run_check(engine) -> dict:
    """Check the whole store; return the report as docker-style JSON."""
    report = Report()
    check_blobs(engine, report)
    check_images(engine, report)
    check_containers(engine, report)
    return report.as_dict()
