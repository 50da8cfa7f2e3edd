import json
import os

from dockyard.supervisor.logs import LogWriter, follow, log_files, read_records, tail_lines


def test_lines_partial_lines_and_streams(tmp_path):
    p = str(tmp_path / "c-json.log")
    w = LogWriter(p)
    w.write("stdout", b"hel")
    w.write("stdout", b"lo\nwor")
    w.write("stderr", b"err\n")
    w.close()
    recs, _ = read_records(p)
    assert [(r["log"], r["stream"]) for r in recs] == [
        ("hello\n", "stdout"), ("err\n", "stderr"), ("wor", "stdout")]
    assert recs[0]["time"].endswith("Z") and "T" in recs[0]["time"]


def test_rotation_keeps_max_file(tmp_path):
    p = str(tmp_path / "c-json.log")
    w = LogWriter(p, max_size=200, max_file=3)
    for i in range(50):
        w.write("stdout", f"line {i}\n".encode())
    w.close()
    files = log_files(p)
    assert len(files) == 3 and files[-1] == p
    assert all(os.path.getsize(f) <= 200 for f in files)
    recs, _ = read_records(p, tail=2)
    assert [r["log"] for r in recs] == ["line 48\n", "line 49\n"]


def test_tail_reads_backwards(tmp_path):
    p = tmp_path / "big"
    p.write_bytes(b"".join(json.dumps({"log": f"{i}\n"}).encode() + b"\n" for i in range(100000)))
    last = tail_lines(str(p), 3)
    assert [json.loads(x)["log"] for x in last] == ["99997\n", "99998\n", "99999\n"]


def test_follow_stops_when_not_alive(tmp_path):
    p = str(tmp_path / "f")
    w = LogWriter(p)
    w.write("stdout", b"a\n")
    state = {"n": 0}

    def alive():
        state["n"] += 1
        if state["n"] == 2:
            w.write("stdout", b"b\n")
        return state["n"] < 3
    assert [r["log"] for r in follow(p, 0, alive, interval=0)] == ["a\n", "b\n"]
