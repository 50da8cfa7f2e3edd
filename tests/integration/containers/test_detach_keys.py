"""Detaching from a TTY session with the detach keys (ctrl-p ctrl-q, or --detach-keys):
the container (or exec'd command) goes on, and the client leaves as docker's does (run
and start: status 0; attach and exec: "read escape sequence", status 1). Driven under a
real pty, with dockyard's CLI and, for comparison, the real docker CLI."""
from __future__ import annotations

import json
import os
import pty
import select
import shutil
import time

import pytest

from tests.helpers.daemon import dockyard_bin

pytestmark = pytest.mark.root


class Session:
    """One CLI command on a pty: send keys, wait for output, wait for its exit."""

    def __init__(self, argv: list[str], env: dict):
        self.pid, self.fd = pty.fork()
        if self.pid == 0:  # the child: the CLI on the pty
            try:
                os.execvpe(argv[0], argv, env)
            finally:
                os._exit(127)
        self.out = b""
        self.status: int | None = None

    def expect(self, text: bytes, timeout: float = 15) -> None:
        end = time.monotonic() + timeout
        while text not in self.out:
            left = end - time.monotonic()
            if left <= 0:
                raise AssertionError(f"{text!r} not seen; output so far: {self.out[-400:]!r}")
            r, _, _ = select.select([self.fd], [], [], min(left, 0.1))
            if r:
                try:
                    self.out += os.read(self.fd, 4096)
                except OSError:  # the CLI exited: its pty is gone
                    raise AssertionError(f"{text!r} not seen; exited: {self.out[-400:]!r}")

    def send(self, data: bytes) -> None:
        os.write(self.fd, data)

    def wait(self, timeout: float = 15) -> int:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                self.status = os.waitstatus_to_exitcode(status)
                return self.status
            r, _, _ = select.select([self.fd], [], [], 0.05)
            if r:
                try:
                    self.out += os.read(self.fd, 4096)
                except OSError:
                    pass
        raise AssertionError(f"the CLI did not exit; output: {self.out[-400:]!r}")

    def close(self) -> None:
        if self.status is None:
            try:
                os.kill(self.pid, 9)
                os.waitpid(self.pid, 0)
            except (ProcessLookupError, ChildProcessError):
                pass
        os.close(self.fd)


TOOLS = ["dockyard"] + (["docker"] if shutil.which("docker") else [])


@pytest.mark.parametrize("tool", TOOLS)
def test_detach_keys_leave_the_container_running(daemon, ctr, tool):
    cli = [dockyard_bin("dockyard")] if tool == "dockyard" else ["docker"]
    n = ctr.name("detach")

    def session(*args: str) -> Session:
        return Session([*cli, *args], dict(daemon.env))

    def state() -> str:
        out = daemon.cli("inspect", n, check=True).stdout
        return json.loads(out)[0]["State"]["Status"]

    s = session("run", "-it", "--name", n, "busybox", "sh")
    try:
        s.expect(b"/ # ")
        s.send(b"echo one-$((1+1))\r")
        s.expect(b"one-2")
        s.send(b"\x10\x11")  # ctrl-p ctrl-q
        assert s.wait() == 0
    finally:
        s.close()
    assert state() == "running"

    a = session("attach", "--detach-keys", "ctrl-a,b", n)
    try:
        a.send(b"echo two-$((2+2))\r")
        a.expect(b"two-4")
        a.send(b"\x10\x11")  # not the keys of this session: they reach the shell
        time.sleep(0.3)  # the daemon's relay must not take them as its own default keys:
        a.send(b"echo still-$((1+4))\r")  # the session goes on
        a.expect(b"still-5")
        a.send(b"\x01b")
        assert a.wait() == 1  # docker's attach: "read escape sequence", status 1
        assert b"read escape sequence" in a.out
    finally:
        a.close()
    assert state() == "running"

    x = session("exec", "-it", n, "sh")
    try:
        x.expect(b"# ")
        x.send(b"echo three-$((3+3))\r")
        x.expect(b"three-6")
        x.send(b"\x10\x11")
        assert x.wait() == 1 and b"read escape sequence" in x.out  # as docker's exec
    finally:
        x.close()
    assert state() == "running"
    assert "one-2" in daemon.cli("logs", n).stdout  # the same shell all along


def test_bad_detach_keys_are_refused(daemon):
    before = daemon.cli("ps", "-aq").stdout
    r = daemon.cli("run", "--rm", "-i", "--detach-keys", "ctrl-1", "busybox", "true")
    assert r.returncode == 125
    assert "Invalid detach keys (ctrl-1) provided" in r.stderr
    assert daemon.cli("ps", "-aq").stdout == before  # refused before the create


def test_a_tty_session_needs_a_terminal(daemon, ctr):
    """Piped input to -it would never end (a terminal has no EOF): refused first."""
    before = daemon.cli("ps", "-aq").stdout
    r = daemon.cli("run", "--rm", "-it", "busybox", "cat", input="hi\n")
    assert (r.returncode, r.stderr.strip()) == (1, "the input device is not a TTY")
    assert daemon.cli("ps", "-aq").stdout == before
    n = ctr.name("notty")
    daemon.cli("run", "-dit", "--name", n, "busybox", "sh", check=True)
    r = daemon.cli("exec", "-it", n, "true", input="")
    assert (r.returncode, r.stderr.strip()) == (1, "the input device is not a TTY")
    assert daemon.cli("exec", "-i", n, "cat", input="piped\n").stdout == "piped\n"


def _hijack(daemon, request: bytes):
    import socket
    s = socket.socket(socket.AF_UNIX)
    s.connect(daemon.host[len("unix://"):])
    s.settimeout(10)
    s.sendall(request)
    head = b""
    while b"\r\n\r\n" not in head:
        head += s.recv(1)
    assert head.startswith(b"HTTP/1.1 101"), head
    return s


def _read_until(s, text: bytes) -> bytes:
    got = b""
    while text not in got:
        chunk = s.recv(4096)
        assert chunk, f"stream ended before {text!r}: {got!r}"
        got += chunk
    return got


def test_api_clients_that_send_the_keys_through_are_detached(daemon, ctr):
    """docker-py & co. do not watch for the keys: the daemon does (attach's detachKeys,
    exec's DetachKeys), ends that client's stream and leaves the process running."""
    n = ctr.name("apidetach")
    daemon.cli("run", "-dit", "--name", n, "busybox", "sh", check=True)
    s = _hijack(daemon, f"POST /v1.43/containers/{n}/attach?stream=1&stdin=1&stdout=1"
                        f"&detachKeys=ctrl-x,y HTTP/1.1\r\nHost: d\r\nUpgrade: tcp\r\n"
                        f"Connection: Upgrade\r\n\r\n".encode())
    s.sendall(b"echo api-$((5+5))\n")
    _read_until(s, b"api-10")
    s.sendall(b"\x18y")  # ctrl-x y
    while s.recv(4096):
        pass  # the daemon closes the stream
    s.close()
    eid = daemon.client.post(f"/containers/{n}/exec",
                             json={"Cmd": ["sh"], "Tty": True, "AttachStdin": True,
                                   "AttachStdout": True, "DetachKeys": "ctrl-e,e"})["Id"]
    x = _hijack(daemon, f"POST /v1.43/exec/{eid}/start HTTP/1.1\r\nHost: d\r\n"
                        f"Content-Type: application/json\r\nContent-Length: 27\r\n"
                        f"Upgrade: tcp\r\nConnection: Upgrade\r\n\r\n"
                        f'{{"Detach":false,"Tty":true}}'.encode())
    x.sendall(b"echo exec-$((6+6))\n")
    _read_until(x, b"exec-12")
    x.sendall(b"\x05e")
    while x.recv(4096):
        pass
    x.close()
    assert daemon.client.get(f"/exec/{eid}/json")["Running"] is True  # still there
    assert daemon.client.get(f"/containers/{n}/json")["State"]["Status"] == "running"
    assert "api-10" in daemon.cli("logs", n).stdout
    from dockyard.errors import InvalidArgument
    with pytest.raises(InvalidArgument, match=r"Invalid detach keys \(ctrl-1\) provided"):
        daemon.client.post(f"/containers/{n}/attach", {"stream": 1, "detachKeys": "ctrl-1"})
