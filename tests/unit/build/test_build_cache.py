"""The SQLite prober: hits, misses, explanations, survival across instances."""
from dockyard.build.cache import NoCacheProber, SQLiteProber, cache_key, diff_inputs
from dockyard.store.metadata import Metadata


def inputs(parent="sha256:p1", ins="RUN x", args=None, files=None):
    d = {"parent": parent, "instruction": ins, "args": args or {}}
    if files is not None:
        d["files"] = files
    return d


def test_key_is_stable_and_order_free():
    assert cache_key({"a": 1, "b": {"x": 1, "y": 2}}) == cache_key({"b": {"y": 2, "x": 1}, "a": 1})


def test_probe_record_and_survive_restart(tmp_path):
    path = str(tmp_path / "m.db")
    p = SQLiteProber(Metadata(path), lambda i: True)
    assert p.probe(inputs()) is None
    p.record(inputs(), "sha256:img")
    assert SQLiteProber(Metadata(path), lambda i: True).probe(inputs()) == "sha256:img"


def test_removed_image_is_a_miss(tmp_path):
    p = SQLiteProber(Metadata(str(tmp_path / "m.db")), lambda i: False)
    p.record(inputs(), "sha256:gone")
    assert p.probe(inputs()) is None


def test_no_cache_records_but_never_hits(tmp_path):
    meta = Metadata(str(tmp_path / "m.db"))
    NoCacheProber(meta, lambda i: True).record(inputs(), "sha256:i")
    assert NoCacheProber(meta, lambda i: True).probe(inputs()) is None
    assert SQLiteProber(meta, lambda i: True).probe(inputs()) == "sha256:i"


def test_explain_names_file_arg_parent(tmp_path):
    p = SQLiteProber(Metadata(str(tmp_path / "m.db")), lambda i: True)
    p.record(inputs(ins="COPY . /app", args={"V": "1"},
                    files={"app.js": "file:644:0:0:aaaa", "old.js": "file:644:0:0:bbbb"}), "sha256:i1")
    why = p.explain(inputs(ins="COPY . /app", args={"V": "2"},
                           files={"app.js": "file:644:0:0:cccc", "new.js": "file:644:0:0:dddd"}))
    assert "build arg V changed: 1 -> 2" in why
    assert "file app.js changed: content sha256 aaaa -> cccc" in why
    assert "file new.js added" in why and "file old.js removed" in why
    why = p.explain(inputs(ins="COPY . /app", args={"V": "1"},
                           files={"app.js": "file:600:0:0:aaaa", "old.js": "file:644:0:0:bbbb"}))
    assert why == ["file app.js changed: mode 644 -> 600"]
    why = p.explain(inputs(parent="sha256:p2", ins="COPY . /app"))
    assert why[0].startswith("parent image changed: p1 -> p2")
    assert p.explain(inputs(parent="sha256:p3", ins="RUN never")) == \
        ["no earlier build of this step on this parent"]


def test_diff_inputs_instruction():
    assert diff_inputs(inputs(ins="RUN a"), inputs(ins="RUN b")) == ["instruction changed: 'RUN a' -> 'RUN b'"]


def test_prune(tmp_path):
    p = SQLiteProber(Metadata(str(tmp_path / "m.db")), lambda i: True)
    p.record(inputs(), "sha256:i")
    assert len(p.prune()) == 1 and p.probe(inputs()) is None
