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


def _follow_in_thread(p, alive, **kw):
    import threading
    got, done = [], threading.Event()

    def run():
        for r in follow(p, 0, alive, **kw):
            got.append(r["log"])
        done.set()
    threading.Thread(target=run, daemon=True).start()
    return got, done


def _until(cond, timeout=5.0):
    import time
    end = time.monotonic() + timeout
    while not cond() and time.monotonic() < end:
        time.sleep(0.01)
    return cond()


def test_follow_wakes_on_writes_and_rotation_not_on_a_timer(tmp_path):
    """With inotify the follower sleeps until the directory changes: a line written
    later (and one written after a rotation) arrives although the safety timeout is
    far longer than the test."""
    p = str(tmp_path / "c-json.log")
    w = LogWriter(p, max_size=120, max_file=2)
    w.write("stdout", b"first\n")
    live = {"on": True}
    got, done = _follow_in_thread(p, lambda: live["on"], safety=60)
    assert _until(lambda: got == ["first\n"])
    w.write("stdout", b"second\n")
    assert _until(lambda: got[-1:] == ["second\n"])
    for i in range(3):  # past max_size: the file rotates under the follower each time
        w.write("stdout", f"line {i}\n".encode())
        assert _until(lambda: got[-1:] == [f"line {i}\n"]), got
    assert got == ["first\n", "second\n", "line 0\n", "line 1\n", "line 2\n"]
    w.close()
    live["on"] = False
    os.rename(p, p + ".x")  # a directory change wakes it to see alive() is False
    assert done.wait(5)


def test_follow_ends_at_once_when_its_wake_fd_fires(tmp_path):
    p = str(tmp_path / "c-json.log")
    LogWriter(p).write("stdout", b"x\n")
    live = {"on": True}
    fd = os.eventfd(0, os.EFD_CLOEXEC | os.EFD_NONBLOCK)
    try:
        got, done = _follow_in_thread(p, lambda: live["on"], wake_fd=fd, safety=60)
        assert _until(lambda: got == ["x\n"])
        live["on"] = False
        os.eventfd_write(fd, 1)
        assert done.wait(5)
    finally:
        os.close(fd)


def test_a_wake_that_does_not_end_the_follow_is_drained(tmp_path):
    """A state change that leaves the container running (unpause) must not leave the
    eventfd readable: the follower would spin on it."""
    p = str(tmp_path / "c-json.log")
    LogWriter(p).write("stdout", b"x\n")
    calls = {"n": 0}

    def alive():
        calls["n"] += 1
        return calls["n"] < 1000
    fd = os.eventfd(0, os.EFD_CLOEXEC | os.EFD_NONBLOCK)
    try:
        got, done = _follow_in_thread(p, alive, wake_fd=fd, safety=60)
        assert _until(lambda: got == ["x\n"])
        os.eventfd_write(fd, 1)
        import time
        time.sleep(0.3)
        assert calls["n"] < 10 and not done.is_set()  # woke once, then slept again
        calls["n"] = 1000
        os.eventfd_write(fd, 1)
        assert done.wait(5)
    finally:
        os.close(fd)
