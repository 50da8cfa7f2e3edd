"""Relay between a hijacked client connection and a supervisor stream (attach, exec).

Output goes out as docker's multiplexed frames (8-byte header) or raw bytes for a TTY;
client bytes go to the container's stdin until the client half-closes.
"""
from __future__ import annotations

import threading

from dockyard.supervisor import protocol as P

MUX = "application/vnd.docker.multiplexed-stream"
RAW = "application/vnd.docker.raw-stream"


def relay(conn, stream, tty: bool, stdin: bool, on_exit=None) -> None:
    """Copy until the process exits (exit frame) or the client goes away; ``on_exit`` gets
    the exit record before the client sees the end of the stream."""
    if stream is None:
        conn.close()
        return
    if stdin:
        threading.Thread(target=_pump_stdin, args=(conn, stream), daemon=True).start()
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


def _pump_stdin(conn, stream) -> None:
    try:
        while True:
            data = conn.recv(65536)
            if not data:
                break
            stream.send_stdin(data)
    except OSError:
        return
    stream.close_stdin()


def frames_bytes(pairs, tty: bool):
    """(stream, bytes) pairs → response chunks."""
    for sid, data in pairs:
        yield data if tty else P.frame(sid, data)
