"""The daemon replaces an idle supervisor that runs other code, and keeps a busy one."""
import os

from dockyard import errors
from dockyard.supervisor import client as supclient
from dockyard.supervisor.client import SupervisorClient
from dockyard.supervisor.codeid import code_id


class FakeSup(SupervisorClient):
    def __init__(self, replies):
        super().__init__("/nonexistent", "dockyard")
        self.replies, self.calls = replies, []

    def call(self, op, **kw):
        self.calls.append(op)
        r = self.replies.get(op)
        if isinstance(r, Exception):
            raise r
        return r or {}


def test_same_code_is_kept():
    sup = FakeSup({})
    assert sup._current({"pid": 1, "code": code_id(), "runtime": "dockyard", "procs": 0})
    assert sup.calls == []


def test_idle_supervisor_with_other_code_is_retired(monkeypatch):
    monkeypatch.setattr(supclient, "_wait_gone", lambda pid, timeout: True)
    sup = FakeSup({"retire": errors.Unavailable("gone")})
    assert not sup._current({"pid": 1, "code": "0" * 16, "runtime": "dockyard", "procs": 0})
    assert sup.calls == ["retire"]


def test_other_runtime_is_other_code(monkeypatch):
    monkeypatch.setattr(supclient, "_wait_gone", lambda pid, timeout: True)
    sup = FakeSup({})
    assert not sup._current({"pid": 1, "code": code_id(), "runtime": "runc", "procs": 0})


def test_busy_supervisor_is_kept_even_with_other_code():
    sup = FakeSup({})
    assert sup._current({"pid": 1, "code": "0" * 16, "procs": 3})
    assert sup.calls == []


def test_old_supervisor_without_procs_in_ping_is_asked_for_its_list():
    sup = FakeSup({"list": {"procs": [{"id": "a"}]}})
    assert sup._current({"pid": 1})  # pre-fingerprint ping: only a pid
    assert sup.calls == ["list"]


def test_wait_gone_for_a_process_that_does_not_exist():
    assert supclient._wait_gone(2 ** 22 + 12345, 0.1)
    assert not supclient._wait_gone(os.getpid(), 0.05)


def test_code_id_is_stable_within_a_process():
    assert code_id() == code_id() and len(code_id()) == 16
