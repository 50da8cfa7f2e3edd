"""The supervisor's control protocol: JSON lines over a unix socket, plus framed streams.

::

    dockyardd (client.py)                         supervisor (server.py)
        │ connect <exec_root>/supervisor.sock          │
        │── {"op":"create","id",bundle,tty,log,...} ──►│ pipes/pty, runtime.create → pid
        │◄──────────── {"ok":true,"pid":N} ────────────│ (init waits on its exec fifo)
        │── {"op":"attach","id",stdin,stdout,...} ────►│ (on its own connection)
        │◄──────────── {"ok":true} ────────────────────│ connection becomes a frame stream:
        │◄── frame(1|2, output) … frame(3, {"exit_code"}) ─ output fans out to every attacher
        │── frame(0, stdin bytes) / frame(0, b"") = EOF ─►│
        │── {"op":"start","id"} ──────────────────────►│ runtime.start
        │── {"op":"subscribe"} ───────────────────────►│ (its own connection, kept open)
        │◄── {"event":"exit","id","exit_code","finished_at"} ─ pushed on every exit/restart
        │── {"op":"wait","id"} ───────────────────────►│ reply held until the process exits
        │── kill / delete / exec / resize / state / list ─►│ one request, one reply
        │── {"op":"update","id",restart} ─────────────►│ a new restart policy (docker update)

Requests are one JSON object per line with ``op``; every reply is one line with ``ok``
(and ``error`` + ``kind`` — a dockyard.errors class name — when it failed). A frame is
docker's multiplexed header ``>BxxxL`` (stream, length) followed by the payload; stream 3
carries the exit record as JSON and ends the stream.
"""
from __future__ import annotations

import json
import struct

OPS = ("create", "start", "kill", "delete", "exec", "attach", "state", "list", "resize",
       "wait", "subscribe", "ping", "update", "retire")
STDIN, STDOUT, STDERR, EXIT = 0, 1, 2, 3
HEADER = struct.Struct(">BxxxL")


def encode(msg: dict) -> bytes:
    return json.dumps(msg, separators=(",", ":")).encode() + b"\n"


def decode(line: bytes) -> dict:
    return json.loads(line)


def frame(stream: int, data: bytes) -> bytes:
    return HEADER.pack(stream, len(data)) + data


def parse_frames(buf: bytearray) -> list[tuple[int, bytes]]:
    """Pop every complete frame off the front of ``buf``."""
    out = []
    while len(buf) >= HEADER.size:
        stream, n = HEADER.unpack_from(buf)
        if len(buf) < HEADER.size + n:
            break
        out.append((stream, bytes(buf[HEADER.size:HEADER.size + n])))
        del buf[:HEADER.size + n]
    return out
