"""Relay between a hijacked client connection and a supervisor stream (attach, exec).

Output goes out as docker's multiplexed frames (8-byte header) or raw bytes for a TTY;
client bytes go to the container's stdin until the client half-closes.
"""
from __future__ import annotations

import socket
import threading

from dockyard.detachkeys import Scanner
from dockyard.supervisor import protocol as P

MUX = "application/vnd.docker.multiplexed-stream"
RAW = "application/vnd.docker.raw-stream"


def relay(conn, stream, tty: bool, stdin: bool, on_exit=None,
          detach_keys: bytes | None = None) -> None:
    """Copy until the process exits (exit frame), the client goes away, or (TTY) the client
    types ``detach_keys``; ``on_exit`` gets the exit record before the client sees the end
    of the stream."""
    if stream is None:
        conn.close()
        return
    if stdin:
        scanner = Scanner(detach_keys) if tty and detach_keys else None
        threading.Thread(target=_pump_stdin, args=(conn, stream, scanner),
                         daemon=True).start()
    try:
        for sid, data in stream.frames():
            if sid == P.EXIT:
                if on_exit:
                    on_exit(P.decode(data))
                break
            conn.sendall(data if tty else P.frame(sid, data))
    except OSError:
        pass  # the client hung up
    finally:
        stream.close()
        conn.shutdown_write()
        conn.close()


def _pump_stdin(conn, stream, scanner: Scanner | None = None) -> None:
    try:
        while True:
            data = conn.recv(65536)
            if not data:
                break
            if scanner is not None:
                data, hit = scanner.feed(data)
                if data:
                    stream.send_stdin(data)
                if hit:  # docker's detach: the attach ends, the process goes on
                    stream.sock.shutdown(socket.SHUT_RDWR)  # ends relay's output loop
                    return
                continue
            stream.send_stdin(data)
    except OSError:
        return
    stream.close_stdin()


def frames_bytes(pairs, tty: bool):
    """(stream, bytes) pairs → response chunks."""
    for sid, data in pairs:
        yield data if tty else P.frame(sid, data)
