import threading

from dockyard.engine.events import EventService, matches


def test_history_replay_and_filters():
    ev = EventService()
    ev.emit("container", "start", "abc", {"name": "web", "image": "busybox", "tier": "x"})
    ev.emit("volume", "create", "v1", {"driver": "local"})
    got = list(ev.subscribe({"type": ["container"]}, since=0,
                            stop=_stopped()))
    assert [e["Action"] for e in got] == ["start"]
    assert got[0]["status"] == "start" and got[0]["from"] == "busybox"


def _stopped():
    s = threading.Event()
    s.set()
    return s


def test_live_events_reach_subscribers():
    ev = EventService()
    stop = threading.Event()
    out = []

    def reader():
        for e in ev.subscribe({"container": ["web"]}, stop=stop):
            out.append(e["Action"])
            if e["Action"] == "die":
                return
    t = threading.Thread(target=reader)
    t.start()
    while not t.is_alive():
        pass
    import time
    time.sleep(0.05)
    ev.emit("container", "start", "id1", {"name": "web"})
    ev.emit("container", "start", "id2", {"name": "other"})
    ev.emit("container", "die", "id1", {"name": "web"})
    t.join(5)
    stop.set()
    assert out == ["start", "die"]


def test_label_and_event_filters():
    e = {"Type": "container", "Action": "exec_start: sh", "Actor": {"ID": "x", "Attributes": {"a": "1"}},
         "timeNano": 0}
    assert matches(e, {"event": ["exec_start"]})
    assert matches(e, {"label": ["a=1"]}) and not matches(e, {"label": ["a=2"]})
