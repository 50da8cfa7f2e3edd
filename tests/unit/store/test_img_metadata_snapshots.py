"""Metadata transactions and the snapshotter's bookkeeping (no mounts needed)."""
from __future__ import annotations

import json
import os
import threading

import pytest

from dockyard.errors import AlreadyExists, NotFound
from dockyard.store.metadata import Metadata
from dockyard.store.snapshots import Snapshotter

C1, C2 = "sha256:" + "1" * 64, "sha256:" + "2" * 64


def test_tx_commits_and_rolls_back(tmp_path):
    m = Metadata(str(tmp_path / "m.db"))
    m.ensure_schema("t", "CREATE TABLE IF NOT EXISTS t (v INTEGER);")
    m.ensure_schema("t", "CREATE TABLE IF NOT EXISTS t (v INTEGER);")
    with m.tx() as db:
        db.execute("INSERT INTO t VALUES (1)")
        with m.tx() as inner:  # nested: joins the outer transaction
            inner.execute("INSERT INTO t VALUES (2)")
    with pytest.raises(ValueError):
        with m.tx() as db:
            db.execute("INSERT INTO t VALUES (3)")
            raise ValueError
    assert [r[0] for r in m.query("SELECT v FROM t ORDER BY v")] == [1, 2]
    assert m.query_one("SELECT COUNT(*) FROM t")[0] == 2


def test_connections_are_per_thread(tmp_path):
    m = Metadata(str(tmp_path / "m.db"))
    m.ensure_schema("t", "CREATE TABLE IF NOT EXISTS t (v INTEGER);")

    def work(i):
        with m.tx() as db:
            db.execute("INSERT INTO t VALUES (?)", (i,))
    threads = [threading.Thread(target=work, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert m.query_one("SELECT COUNT(*) FROM t")[0] == 8


def test_prepare_commit_chain(tmp_path):
    s = Snapshotter(str(tmp_path))
    assert s.prepare("extract-1", None) == []
    (tmp_path / "x").write_text("")
    open(os.path.join(s.upper("extract-1"), "f"), "w").close()
    s.commit(C1, "extract-1")
    assert s.exists(C1) and not s.exists("extract-1")
    assert os.path.exists(os.path.join(s.dir(C1), "f"))
    lowers = s.prepare("ctr", C1)
    assert lowers == [s.dir(C1)]
    m = s.mounts("ctr")
    assert m["type"] == "overlay" and f"lowerdir={s.dir(C1)}" in m["options"]
    with pytest.raises(AlreadyExists):
        s.prepare("ctr", C1)
    s.commit(C2, "ctr")
    assert s.lowerdirs(C2) == [s.dir(C2), s.dir(C1)]
    assert set(s.committed()) == {C1, C2}


def test_remove_refuses_parent_with_children(tmp_path):
    s = Snapshotter(str(tmp_path))
    s.prepare("k", None)
    s.commit(C1, "k")
    s.prepare("child", C1)
    with pytest.raises(Exception, match="children"):
        s.remove(C1)
    s.remove("child")
    s.remove(C1)
    assert not s.exists(C1)
    with pytest.raises(NotFound):
        s.dir(C1)


def test_recover_drops_scratch_and_half_made(tmp_path):
    s = Snapshotter(str(tmp_path))
    s.prepare("extract-dead", None)
    s.prepare("container-keep", None)
    os.makedirs(tmp_path / "tmp" / "half")
    s.recover()
    assert not s.exists("extract-dead") and s.exists("container-keep")
    assert os.listdir(tmp_path / "tmp") == []


def test_remove_deletes_in_background_and_close_drains(tmp_path):
    s = Snapshotter(str(tmp_path))
    for i in range(5):
        s.prepare(f"ctr{i}", None)
        for n in range(50):
            open(os.path.join(s.upper(f"ctr{i}"), f"f{n}"), "w").close()
    for i in range(5):
        s.remove(f"ctr{i}")
        assert not s.exists(f"ctr{i}")  # gone from view at once
    s.close()
    assert os.listdir(tmp_path / "tmp") == [] and os.listdir(tmp_path / "a") == []
    s.prepare("again", None)  # the reaper starts again after it went idle
    s.remove("again")
    s.close()
    assert os.listdir(tmp_path / "tmp") == []
