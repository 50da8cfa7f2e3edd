"""Client side of attach/exec streams: demultiplex output, pump stdin, raw TTY, resize.

Only builtins at import time: ``run --rm``/``start -a`` without a TTY pass through
here on every call, so signals go through ``_signal`` (``signal`` imports enum),
frame headers are decoded by hand (no struct) and ``threading`` is imported only
when stdin is pumped.
"""
from __future__ import annotations

import _signal
import os
import sys

from dockyard.detachkeys import DEFAULT as DEFAULT_DETACH_KEYS
from dockyard.detachkeys import Scanner as EscapeScanner
from dockyard.detachkeys import parse as parse_detach_keys

# the signals docker's --sig-proxy forwards, by number (signal.Signals would need enum)
_PROXIED = {_signal.SIGINT: "SIGINT", _signal.SIGTERM: "SIGTERM", _signal.SIGHUP: "SIGHUP",
            _signal.SIGQUIT: "SIGQUIT"}


def terminal_size() -> tuple[int, int] | None:
    try:
        sz = os.get_terminal_size(sys.stdout.fileno())
        return sz.lines, sz.columns
    except OSError:
        return None


def resize_on_winch(resize) -> None:
    """Send the terminal size now and whenever it changes (SIGWINCH)."""
    def send(*_):
        size = terminal_size()
        if size:
            try:
                resize(*size)
            except Exception:
                pass
    send()
    try:
        _signal.signal(_signal.SIGWINCH, send)
    except ValueError:
        pass  # not the main thread (an embedding caller): no resize on change


def proxy_signals(kill) -> None:
    """docker's --sig-proxy: SIGINT/SIGTERM/SIGHUP/SIGQUIT go to the container."""
    try:
        for sig in _PROXIED:
            _signal.signal(sig, lambda n, _f: _quiet(kill, _PROXIED[n]))
    except ValueError:
        pass  # signal handlers can only be set from the main thread


def _quiet(fn, *a) -> None:
    try:
        fn(*a)
    except Exception:
        pass


def detach_keys_of(args, status: int = 1) -> bytes:
    """The parsed ``--detach-keys`` of a command's args (a bad value: docker's message)."""
    try:
        return parse_detach_keys(getattr(args, "detach_keys", None))
    except ValueError as e:
        from dockyard.cli.main import CommandError
        raise CommandError(str(e), status) from None


def check_tty(tty: bool, stdin: bool, status: int = 1) -> None:
    """docker's CheckTty: a TTY session with our stdin attached needs a terminal there
    (piped input would never end: a terminal has no EOF)."""
    if tty and stdin and not sys.stdin.isatty():
        from dockyard.cli.main import CommandError
        raise CommandError("the input device is not a TTY", status)


class Detached(Exception):
    """The user typed the detach keys; the container goes on. ``run`` and ``start`` then
    exit 0 quietly, ``attach`` and ``exec`` say docker's "read escape sequence", exit 1."""

    MESSAGE = "read escape sequence"


def attach_and_wait(client, cid: str, tty: bool, stdin: bool, start: bool = False,
                    detach_keys: bytes = DEFAULT_DETACH_KEYS,
                    detach_spec: str | None = None) -> int:
    """Attach to ``cid`` (then start it, for ``start -a``), relay its streams until it
    exits, and return its exit status (``attach`` and ``start -a``). ``detach_spec``
    (``--detach-keys`` as typed) goes to the daemon too, as docker's CLI sends it: its
    relay watches for the same keys (with the default ones, it would end the stream on
    ctrl-p ctrl-q that this session means for the container).

    Raises:
        Detached: the user detached with the detach keys.
    """
    from dockyard import jsonlite
    from dockyard.cli.commands.run import _second
    params = {"stream": 1, "stdout": 1, "stderr": 1, "stdin": int(stdin)}
    if detach_spec:
        params["detachKeys"] = detach_spec
    sock = client.hijack("POST", f"/containers/{cid}/attach", params)
    waiter = _second(client).raw("POST", f"/containers/{cid}/wait", params={"condition": "next-exit"})
    if start:
        client.post(f"/containers/{cid}/start")
    if tty:
        resize_on_winch(lambda h, w: client.post(f"/containers/{cid}/resize", {"h": h, "w": w}))
    try:
        detached = stream_io(sock, tty, stdin, detach_keys)
    finally:
        sock.close()
    if detached:  # the wait answer is never read: it goes with this process
        raise Detached(Detached.MESSAGE)
    return int(jsonlite.loads(waiter.read() or b"{}").get("StatusCode", 0))


def stream_io(sock, tty: bool, stdin: bool,
              detach_keys: bytes = DEFAULT_DETACH_KEYS) -> bool:
    """Copy the container's output to ours until the stream ends; our stdin to it.
    With a TTY, typing the detach keys ends the stream (docker's escape proxy: they are
    not sent): returns True then, False when the stream ended by itself."""
    restore = _raw_mode() if tty and stdin else None
    detached: list[bool] = []
    try:
        if stdin:
            import threading
            scanner = EscapeScanner(detach_keys) if tty and detach_keys else None
            threading.Thread(target=_pump, args=(sock, scanner, detached),
                             daemon=True).start()
        if tty:
            _copy_raw(sock)
        else:
            _demux(sock)
    finally:
        if restore:
            restore()
    return bool(detached)


def _pump(sock, scanner: EscapeScanner | None = None, detached: list | None = None) -> None:
    fd = sys.stdin.fileno()
    try:
        while True:
            data = os.read(fd, 65536)
            if not data:
                break
            if scanner is not None:
                data, hit = scanner.feed(data)
                if data:
                    sock.sendall(data)
                if hit:  # leave the container running: no EOF, just stop reading
                    if detached is not None:
                        detached.append(True)
                    import _socket
                    raw = getattr(sock, "sock", sock)
                    raw.shutdown(_socket.SHUT_RDWR)  # wakes the output loop
                    return
                continue
            sock.sendall(data)
        half_close = getattr(sock, "shutdown_write", None)
        if half_close:
            half_close()
        else:
            import _socket
            sock.shutdown(_socket.SHUT_WR)
    except OSError:
        pass


def _copy_raw(sock) -> None:
    out = sys.stdout.buffer
    while True:
        data = sock.recv(65536)
        if not data:
            return
        out.write(data)
        out.flush()


def _recv_exact(sock, n: int) -> bytes:
    buf = b""
    while len(buf) < n:
        chunk = sock.recv(n - len(buf))
        if not chunk:
            return buf
        buf += chunk
    return buf


def _demux(sock) -> None:
    outs = {1: sys.stdout.buffer, 2: sys.stderr.buffer, 0: sys.stdout.buffer}
    while True:
        hdr = _recv_exact(sock, 8)
        if len(hdr) < 8:
            return
        stream, n = hdr[0], int.from_bytes(hdr[4:8], "big")
        data = _recv_exact(sock, n)
        f = outs.get(stream, sys.stdout.buffer)
        f.write(data)
        f.flush()


def _raw_mode():
    if not sys.stdin.isatty():
        return None
    import termios
    import tty
    fd = sys.stdin.fileno()
    old = termios.tcgetattr(fd)
    tty.setraw(fd, termios.TCSANOW)  # as docker's: keys typed ahead are kept, not flushed
    return lambda: termios.tcsetattr(fd, termios.TCSADRAIN, old)


def demux_bytes(chunks, out=None, err=None) -> None:
    """Write a multiplexed byte stream (logs) to stdout/stderr."""
    out = out or sys.stdout.buffer
    err = err or sys.stderr.buffer
    buf = b""
    for chunk in chunks:
        buf += chunk
        while len(buf) >= 8:
            stream, n = buf[0], int.from_bytes(buf[4:8], "big")
            if len(buf) < 8 + n:
                break
            (err if stream == 2 else out).write(buf[8:8 + n])
            buf = buf[8 + n:]
        out.flush()
        err.flush()
