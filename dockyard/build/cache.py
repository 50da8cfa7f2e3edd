"""The build cache: one swappable prober (moby's ``imageprobe``), kept in SQLite.

A step's cache key is the sha256 of its *inputs*::

    {"parent": image id, "instruction": text after substitution,
     "args": build args in effect, "files": {context path: fingerprint}}

The inputs are stored next to the result so ``--explain-cache`` can compare a
missed step with the closest earlier build of it and say which input changed.
Rows live in the engine's metadata DB, so the cache survives daemon restarts.
``NoCacheProber`` (``--no-cache``) never hits but still records, so a later build
can reuse what a --no-cache build made, as docker does.
"""
from __future__ import annotations

import hashlib
import json
import time
from typing import Callable, Protocol

SCHEMA = """
CREATE TABLE IF NOT EXISTS build_cache (
    key TEXT PRIMARY KEY,
    image_id TEXT NOT NULL,
    parent TEXT NOT NULL,
    instruction TEXT NOT NULL,
    inputs TEXT NOT NULL,
    created REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS build_cache_parent ON build_cache(parent);
CREATE INDEX IF NOT EXISTS build_cache_instruction ON build_cache(instruction);
"""


def cache_key(inputs: dict) -> str:
    """Stable sha256 over the step's inputs."""
    blob = json.dumps(inputs, sort_keys=True, separators=(",", ":")).encode()
    return "sha256:" + hashlib.sha256(blob).hexdigest()


class Prober(Protocol):
    """Looks up and records step results. ``probe`` returns an image id or None."""

    def probe(self, inputs: dict) -> str | None: ...
    def record(self, inputs: dict, image_id: str) -> None: ...
    def explain(self, inputs: dict) -> list[str]: ...


class SQLiteProber:
    """The real prober over the ``build_cache`` table.

    ``exists(image_id)`` lets the prober drop entries whose image was removed.
    """

    def __init__(self, meta, exists: Callable[[str], bool]):
        self.meta = meta
        self.exists = exists
        meta.ensure_schema("build_cache", SCHEMA)

    def probe(self, inputs: dict) -> str | None:
        row = self.meta.query_one("SELECT image_id FROM build_cache WHERE key=?", (cache_key(inputs),))
        if row is None:
            return None
        if not self.exists(row["image_id"]):
            with self.meta.tx() as db:
                db.execute("DELETE FROM build_cache WHERE image_id=?", (row["image_id"],))
            return None
        return row["image_id"]

    def record(self, inputs: dict, image_id: str) -> None:
        with self.meta.tx() as db:
            db.execute("INSERT OR REPLACE INTO build_cache VALUES (?,?,?,?,?,?)",
                       (cache_key(inputs), image_id, inputs.get("parent") or "",
                        inputs["instruction"], json.dumps(inputs, sort_keys=True), time.time()))

    def explain(self, inputs: dict) -> list[str]:
        """Why ``inputs`` missed: what differs from the closest earlier entry."""
        rows = self.meta.query(
            "SELECT inputs FROM build_cache WHERE parent=? ORDER BY created DESC LIMIT 50",
            (inputs.get("parent") or "",))
        same_parent = [json.loads(r["inputs"]) for r in rows]
        if same_parent:
            return diff_inputs(_closest(inputs, same_parent), inputs)
        rows = self.meta.query(
            "SELECT inputs FROM build_cache WHERE instruction=? ORDER BY created DESC LIMIT 1",
            (inputs["instruction"],))
        if rows:
            return diff_inputs(json.loads(rows[0]["inputs"]), inputs)
        return ["no earlier build of this step on this parent"]

    def prune(self, until: float | None = None) -> list[str]:
        """Forget every cache entry (recorded before ``until`` when given); returns the
        removed keys."""
        cutoff = float("inf") if until is None else until
        with self.meta.tx() as db:
            keys = [r["key"] for r in db.execute(
                "SELECT key FROM build_cache WHERE created < ?", (cutoff,))]
            db.execute("DELETE FROM build_cache WHERE created < ?", (cutoff,))
        return keys


class NoCacheProber(SQLiteProber):
    """``--no-cache``: every probe misses; results are still recorded."""

    def probe(self, inputs: dict) -> str | None:
        return None

    def explain(self, inputs: dict) -> list[str]:
        return ["--no-cache was given"]


def _closest(inputs: dict, candidates: list[dict]) -> dict:
    """The earlier entry sharing the most inputs (same instruction first)."""
    def score(c: dict) -> tuple:
        return (c.get("instruction") == inputs.get("instruction"),
                _strip_files(c.get("instruction", "")) == _strip_files(inputs.get("instruction", "")),
                -len(diff_inputs(c, inputs)))
    return max(candidates, key=score)


def _strip_files(instruction: str) -> str:
    return instruction.split(" ", 1)[0]


def diff_inputs(old: dict, new: dict) -> list[str]:
    """Human lines naming each changed input between two cache entries."""
    out: list[str] = []
    if old.get("parent") != new.get("parent"):
        out.append(f"parent image changed: {_short(old.get('parent'))} -> {_short(new.get('parent'))}")
    if old.get("instruction") != new.get("instruction"):
        out.append(f"instruction changed: {old.get('instruction')!r} -> {new.get('instruction')!r}")
    out += _diff_maps("build arg", old.get("args") or {}, new.get("args") or {}, str)
    out += _diff_maps("file", old.get("files") or {}, new.get("files") or {}, str, _describe_change)
    return out or ["an identical step was built before but its image is gone"]


def _diff_maps(what: str, old: dict, new: dict, fmt: Callable[[str], str],
               change: Callable[[str, str], str] | None = None) -> list[str]:
    out = []
    for k in sorted(set(old) | set(new)):
        a, b = old.get(k), new.get(k)
        if a == b:
            continue
        if a is None:
            out.append(f"{what} {k} added")
        elif b is None:
            out.append(f"{what} {k} removed")
        else:
            out.append(f"{what} {k} changed: " + (change(a, b) if change else f"{fmt(a)} -> {fmt(b)}"))
    return out


FP_FIELDS = ("type", "mode", "uid", "gid")


def _describe_change(old: str, new: str) -> str:
    """What differs between two fingerprints ``kind:mode:uid:gid[:sha256|:target]``."""
    a, b = old.split(":", 4), new.split(":", 4)
    if len(a) != len(b) or a[0] != b[0]:
        return f"{a[0]} -> {b[0]}"
    parts = [f"{name} {x} -> {y}" for name, x, y in zip(FP_FIELDS[1:], a[1:4], b[1:4]) if x != y]
    if len(a) == 5 and a[4] != b[4]:
        parts.append(f"content sha256 {a[4][:12]} -> {b[4][:12]}" if a[0] == "file"
                     else f"target {a[4]} -> {b[4]}")
    return ", ".join(parts)


def _short(image_id: str | None) -> str:
    return (image_id or "scratch").split(":")[-1][:12]
