"""Metadata in one SQLite database (WAL), shared by the services.

Each service owns its tables and creates them once with :meth:`Metadata.ensure_schema`;
nothing else touches them. Connections are per thread (sqlite3 objects must not cross
threads); writes go through :meth:`Metadata.tx`, which is one transaction::

    meta.ensure_schema("images", "CREATE TABLE IF NOT EXISTS images (...)")
    with meta.tx() as db:
        db.execute("INSERT INTO images ...", args)
"""
from __future__ import annotations

import contextlib
import os
import sqlite3
import threading
from typing import Iterator


class Metadata:
    def __init__(self, path: str):
        self.path = path
        os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
        self._local = threading.local()
        self._schemas: set[str] = set()
        self._lock = threading.Lock()
        db = self._conn()
        db.execute("PRAGMA journal_mode=WAL")

    def _conn(self) -> sqlite3.Connection:
        db = getattr(self._local, "db", None)
        if db is None:
            db = sqlite3.connect(self.path, timeout=30, isolation_level=None,
                                 check_same_thread=False)
            db.row_factory = sqlite3.Row
            db.execute("PRAGMA synchronous=NORMAL")
            db.execute("PRAGMA foreign_keys=ON")
            self._local.db = db
        return db

    def ensure_schema(self, name: str, ddl: str) -> None:
        """Run ``ddl`` (idempotent ``CREATE … IF NOT EXISTS`` statements) once per process."""
        with self._lock:
            if name in self._schemas:
                return
            self._conn().executescript(ddl)
            self._schemas.add(name)

    @contextlib.contextmanager
    def tx(self) -> Iterator[sqlite3.Connection]:
        """A write transaction (BEGIN IMMEDIATE … COMMIT, ROLLBACK on error)."""
        db = self._conn()
        if db.in_transaction:  # nested: join the outer transaction
            yield db
            return
        db.execute("BEGIN IMMEDIATE")
        try:
            yield db
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")

    def query(self, sql: str, args: tuple | dict = ()) -> list[sqlite3.Row]:
        return self._conn().execute(sql, args).fetchall()

    def query_one(self, sql: str, args: tuple | dict = ()) -> sqlite3.Row | None:
        return self._conn().execute(sql, args).fetchone()

    def close(self) -> None:
        db = getattr(self._local, "db", None)
        if db is not None:
            db.close()
            self._local.db = None
