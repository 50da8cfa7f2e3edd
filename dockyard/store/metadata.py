"""Metadata: one SQLite database (WAL) shared by every service.

Each service owns its tables and creates them once with :meth:`Metadata.ensure_schema`.
Connections are per thread (sqlite3 objects must not cross threads); WAL lets
readers run while one writer commits. Writes go through :meth:`Metadata.tx`::

    meta.ensure_schema("images", "CREATE TABLE IF NOT EXISTS images (...);")
    with meta.tx() as db:
        db.execute("INSERT INTO images VALUES (?, ?)", (image_id, created))
    rows = meta.query("SELECT id FROM images WHERE id LIKE ?", (prefix + "%",))
"""
from __future__ import annotations

import contextlib
import os
import sqlite3
import threading
from typing import Iterator, Sequence

_BUSY_TIMEOUT_S = 30.0


class Metadata:
    """The SQLite metadata database at ``path`` (created on first use)."""

    def __init__(self, path: str):
        self.path = path
        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        self._local = threading.local()
        self._schema_lock = threading.Lock()
        self._schemas: set[str] = set()
        with self.tx() as db:
            db.execute("CREATE TABLE IF NOT EXISTS schema_versions "
                       "(name TEXT PRIMARY KEY, ddl TEXT NOT NULL)")

    def _conn(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            # isolation_level=None: we issue BEGIN/COMMIT ourselves in tx().
            conn = sqlite3.connect(self.path, timeout=_BUSY_TIMEOUT_S,
                                   isolation_level=None, check_same_thread=False)
            conn.row_factory = sqlite3.Row
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute("PRAGMA foreign_keys=ON")
            self._local.conn = conn
            self._local.depth = 0
        return conn

    @contextlib.contextmanager
    def tx(self) -> Iterator[sqlite3.Connection]:
        """A write transaction (BEGIN IMMEDIATE); commits on success, rolls back on error.

        Nested use joins the outer transaction, so helpers can be composed.
        """
        conn = self._conn()
        if self._local.depth:
            self._local.depth += 1
            try:
                yield conn
            finally:
                self._local.depth -= 1
            return
        conn.execute("BEGIN IMMEDIATE")
        self._local.depth = 1
        try:
            yield conn
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        else:
            conn.execute("COMMIT")
        finally:
            self._local.depth = 0

    def query(self, sql: str, args: Sequence = ()) -> list[sqlite3.Row]:
        """Run a read query and return all rows."""
        return self._conn().execute(sql, args).fetchall()

    def query_one(self, sql: str, args: Sequence = ()) -> sqlite3.Row | None:
        """Run a read query and return its first row (or None)."""
        return self._conn().execute(sql, args).fetchone()

    def ensure_schema(self, name: str, ddl: str) -> None:
        """Create a service's tables (idempotent ``CREATE ... IF NOT EXISTS`` DDL)."""
        with self._schema_lock:
            if name in self._schemas:
                return
            conn = self._conn()
            conn.executescript(ddl)
            with self.tx() as db:
                db.execute("INSERT OR REPLACE INTO schema_versions VALUES (?, ?)", (name, ddl))
            self._schemas.add(name)

    def close(self) -> None:
        """Close this thread's connection (others close when their threads end)."""
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None
