"""Signals, IDs, state records, JSON, CLI argument tables, paths, mount options."""
from __future__ import annotations

import os

import pytest

from dockyard.errors import AlreadyExists, InvalidArgument, NotFound
from dockyard.runtime import cliargs, jsonio, signals, state
from dockyard.runtime import syscalls as sc
from dockyard.runtime.linux.mounts import parse_options
from dockyard.runtime.linux.paths import secure_join
from dockyard.runtime.process.sync import error_message


@pytest.mark.parametrize("given, number", [
    (9, 9), ("9", 9), ("KILL", 9), ("SIGKILL", 9), ("sigterm", 15), ("SIGRTMIN+2", 36),
    ("RTMAX-1", 63), ("WINCH", 28)])
def test_signal_parse(given, number):
    assert signals.parse(given) == number


@pytest.mark.parametrize("bad", ["FOO", "SIGFOO", "0", "65", "KILL+1", "", -1, None])
def test_signal_parse_rejects(bad):
    with pytest.raises(InvalidArgument, match="unknown signal"):
        signals.parse(bad)


@pytest.mark.parametrize("bad", ["", ".", "..", "a/b", "a b", "x;y"])
def test_bad_ids(bad):
    with pytest.raises(InvalidArgument):
        state.check_id(bad)


def test_state_dir_round_trip(tmp_path):
    sd = state.StateDir(str(tmp_path), "c1")
    sd.make()
    with pytest.raises(AlreadyExists):
        state.StateDir(str(tmp_path), "c1").make()
    sd.save({"id": "c1", "pid": 0, "bundle": "/b"})
    assert sd.load()["bundle"] == "/b"
    sd.remove()
    assert not os.path.exists(sd.path)
    with pytest.raises(NotFound, match="does not exist"):
        sd.load()


def test_status_of(tmp_path):
    fifo = str(tmp_path / "exec.fifo")
    me = {"id": "x", "bundle": "/b", "pid": os.getpid(),
          "start_time": state.proc_start_time(os.getpid())}
    assert state.status_of(me, fifo) is state.Status.RUNNING
    assert state.status_of(me, fifo, frozen=True) is state.Status.PAUSED
    open(fifo, "w").close()
    assert state.status_of(me, fifo) is state.Status.CREATED
    assert state.status_of(dict(me, start_time=1), fifo) is state.Status.STOPPED
    oci = state.oci_state(me, state.Status.STOPPED)
    assert oci["status"] == "stopped" and oci["pid"] == 0


def test_status_transitions():
    S = state.Status
    assert S.CREATED.can_start() and not S.RUNNING.can_start()
    assert S.PAUSED.can_kill() and not S.STOPPED.can_kill()
    assert S.STOPPED.can_delete() and not S.RUNNING.can_delete()


@pytest.mark.parametrize("doc", ['{"a": [1, 2.5, "x\\u00e9", null, true, false]}', "[]", '"s"',
                                 ' {"n": {"m": {}}} '])
def test_jsonio_matches_json(doc):
    import json
    assert jsonio.loads(doc) == json.loads(doc)
    assert jsonio.loads(jsonio.dumps(json.loads(doc))) == json.loads(doc)


@pytest.mark.parametrize("bad", ["", "{", "[1,]", "1 2", "{'a': 1}"])
def test_jsonio_rejects(bad):
    with pytest.raises(ValueError):
        jsonio.loads(bad)


OPTS = [(("--bundle", "-b"), "bundle", "str", "."), (("--detach", "-d"), "detach", "bool", False),
        (("--env", "-e"), "env", "list", None), (("--n",), "n", "int", 0)]


def test_cliargs_parses_go_style():
    a, _ = cliargs.parse(["-b", "/x", "--detach", "-e", "A=1", "--env=B=2", "--n", "3", "id1",
                          "sh", "-c", "x"], OPTS, [("id", True), ("*", "command")])
    assert (a.bundle, a.detach, a.env, a.n, a.id) == ("/x", True, ["A=1", "B=2"], 3, "id1")
    assert a.command == ["sh", "-c", "x"]  # flags end at the first positional


def test_cliargs_errors():
    with pytest.raises(InvalidArgument, match="not defined"):
        cliargs.parse(["--nope", "x"], OPTS, [("id", True)])
    with pytest.raises(InvalidArgument, match="missing argument"):
        cliargs.parse([], OPTS, [("id", True)])
    with pytest.raises(InvalidArgument, match="needs an argument"):
        cliargs.parse(["--bundle"], OPTS, [("id", True)])
    with pytest.raises(InvalidArgument, match="invalid value"):
        cliargs.parse(["--n", "x", "id"], OPTS, [("id", True)])
    with pytest.raises(InvalidArgument, match="unexpected"):
        cliargs.parse(["a", "b"], OPTS, [("id", True)])


def test_cliargs_double_dash():
    a, _ = cliargs.parse(["id", "--", "ls", "-l"], OPTS, [("id", True), ("*", "command")])
    assert a.command == ["ls", "-l"]


def test_secure_join_stays_inside(tmp_path):
    root = tmp_path / "root"
    (root / "etc").mkdir(parents=True)
    os.symlink("/etc", root / "abs")
    os.symlink("../../../..", root / "up")
    os.symlink("loop", root / "loop")
    assert secure_join(str(root), "/etc/../../x") == str(root / "x")
    assert secure_join(str(root), "/abs/passwd") == str(root / "etc/passwd")
    assert secure_join(str(root), "/up/etc") == str(root / "etc")
    with pytest.raises(OSError):
        secure_join(str(root), "/loop")


def test_parse_options():
    flags, prop, data = parse_options(["ro", "nosuid", "rbind", "rslave", "mode=755", "size=1k"])
    assert flags == sc.MS_RDONLY | sc.MS_NOSUID | sc.MS_BIND | sc.MS_REC
    assert prop == [sc.MS_SLAVE | sc.MS_REC]
    assert data == "mode=755,size=1k"
    flags, _, _ = parse_options(["ro", "rw", "noexec", "exec"])
    assert flags == 0


def test_error_message_names_syscall_and_path():
    assert error_message(OSError(1, "mount: Operation not permitted", "/proc")) == \
        "mount /proc: Operation not permitted"
    assert error_message(OSError(2, "No such file or directory", "/x")) == \
        "/x: No such file or directory"
    assert error_message(InvalidArgument("bad")) == "bad"


def test_delete_clears_a_half_made_state_dir(tmp_path):
    from dockyard.runtime import Runtime
    os.makedirs(tmp_path / "c9")
    (tmp_path / "c9" / "exec.fifo").write_text("")
    Runtime(str(tmp_path)).delete("c9")
    assert not (tmp_path / "c9").exists()
    with pytest.raises(NotFound):
        Runtime(str(tmp_path)).delete("c9")


def test_trampoline_elf_matches_the_struct_layout():
    """elf() packs by hand (struct costs an import on every CLI call): same bytes."""
    import struct

    from dockyard.runtime.linux import trampoline as t
    entry, size = t._BASE + 64 + 56, 64 + 56 + len(t._CODE)
    want = b"\x7fELF" + bytes([2, 1, 1, 0]) + bytes(8) + struct.pack(
        "<HHIQQQIHHHHHH", 2, 0x3E, 1, entry, 64, 0, 0, 64, 56, 1, 0, 0, 0) + struct.pack(
        "<IIQQQQQQ", 1, 5, 0, t._BASE, t._BASE, size, size, 0x1000) + t._CODE
    assert t.elf() == want


def test_trampoline_memfd_is_sealed():
    import errno
    import os

    from dockyard.runtime.linux import trampoline
    fd = trampoline.create()
    if fd is None:
        return  # not x86_64
    try:
        assert os.pread(fd, 4, 0) == b"\x7fELF"
        try:
            os.pwrite(fd, b"x", 0)
        except OSError as e:
            assert e.errno == errno.EPERM
        else:
            raise AssertionError("a sealed memfd took a write")
    finally:
        os.close(fd)


def test_capset_and_rlimit_buffers_match_struct(monkeypatch):
    import struct

    from dockyard.runtime import syscalls as sc
    seen = {}

    class Lib:
        def capset(self, header, data):
            seen["capset"] = (header, data)
            return 0

        def setrlimit(self, kind, limits):
            seen["rlimit"] = limits
            return 0
    linux = sc.Linux()
    monkeypatch.setattr(linux, "_libc", Lib())
    e, p, i = (1 << 40) | 5, (1 << 33) | 7, 3
    linux.capset(e, p, i)
    words = [m & 0xFFFFFFFF for m in (e, p, i)] + [m >> 32 for m in (e, p, i)]
    assert seen["capset"] == (struct.pack("Ii", 0x20080522, 0), struct.pack("6I", *words))
    linux.setrlimit(7, 1024, -1)
    assert seen["rlimit"] == struct.pack("QQ", 1024, 0xFFFFFFFFFFFFFFFF)


def test_hooks_read_config_only_when_the_record_says_so(tmp_path):
    import json

    from dockyard.runtime.container import Runtime
    from dockyard.runtime.state import StateDir
    rt = Runtime(str(tmp_path))
    sd = StateDir(str(tmp_path), "c1")
    sd.make()
    hooks = {"poststop": [{"path": "/bin/true"}]}
    # no config.json at all: a record without hooks of that kind never reads it
    assert rt._hooks(sd, {"hook_kinds": []}, "poststop") == {}
    assert rt._hooks(sd, {"hook_kinds": ["poststop"]}, "poststart") == {}
    (tmp_path / "c1" / "config.json").write_text(json.dumps({"hooks": hooks}))
    assert rt._hooks(sd, {"hook_kinds": ["poststop"]}, "poststop") == hooks
    assert rt._hooks(sd, {}, "poststart") == hooks  # a record from before: read it


def test_state_is_staged_then_committed(tmp_path):
    import pytest as _pytest

    from dockyard.errors import NotFound
    from dockyard.runtime.state import StateDir
    sd = StateDir(str(tmp_path), "c1")
    sd.make()
    sd.stage({"id": "c1", "pid": 7})
    assert not sd.exists()  # a reader does not see a container still being made
    with _pytest.raises(NotFound):
        sd.load()
    sd.commit()
    assert sd.exists() and sd.load() == {"id": "c1", "pid": 7}
    sd.remove()
    assert not (tmp_path / "c1").exists()
