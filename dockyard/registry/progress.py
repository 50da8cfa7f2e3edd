"""Docker's progress JSON messages for pull and push.

Each message is a dict as the Engine API streams it::

    {"status": "Downloading", "id": "c49f83e0b13e",
     "progressDetail": {"current": 6079000, "total": 18540000},
     "progress": "[================>                                  ]  6.079MB/18.54MB"}

Worker threads report into a :class:`Channel`; the request thread iterates it.
Byte progress is throttled so a fast transfer does not flood the stream.
"""
from __future__ import annotations

import queue
import threading
import time
from typing import Iterator

from dockyard.errors import DockyardError

_UNITS = ("B", "kB", "MB", "GB", "TB", "PB")
BAR_WIDTH = 50
THROTTLE = 0.1   # seconds between two byte-progress messages of one layer


def human_size(n: float) -> str:
    """docker's units.HumanSize: 4 significant digits, base 1000 (``6.079MB``)."""
    i = 0
    while n >= 1000 and i < len(_UNITS) - 1:
        n /= 1000.0
        i += 1
    return f"{n:.4g}{_UNITS[i]}"


def bar(current: int, total: int) -> str:
    """``[=====>      ]  6.079MB/18.54MB`` as docker's JSONProgress.String draws it."""
    if total <= 0:
        return f"{human_size(current):>8}" if current > 0 else ""
    filled = min(int(current * 100 / total) // 2, BAR_WIDTH)
    box = "[" + "=" * filled + ">" + " " * (BAR_WIDTH - filled) + "] "
    return box + f"{human_size(current):>8}/{human_size(total)}"


def status(text: str, ident: str | None = None) -> dict:
    msg = {"status": text}
    if ident:
        msg.update(progressDetail={}, id=ident)
    return msg


def progress(text: str, ident: str, current: int, total: int) -> dict:
    return {"status": text, "progressDetail": {"current": current, "total": total},
            "progress": bar(current, total), "id": ident}


def error(message: str) -> dict:
    return {"errorDetail": {"message": message}, "error": message}


class Cancelled(DockyardError):
    """The transfer was abandoned (its client went away, or another layer failed)."""


class Channel:
    """A thread-safe message queue between transfer workers and the streaming response.

    Once the reader is gone (:meth:`cancel`), every ``put`` raises :class:`Cancelled`,
    so workers stop at their next progress report.
    """

    _END = object()

    def __init__(self) -> None:
        self._q: queue.Queue = queue.Queue()
        self._last: dict[str, float] = {}
        self._lock = threading.Lock()
        self.cancelled = threading.Event()

    def cancel(self) -> None:
        self.cancelled.set()

    def put(self, msg: dict) -> None:
        if self.cancelled.is_set():
            raise Cancelled("transfer cancelled: the client went away")
        self._q.put(msg)

    def status(self, text: str, ident: str | None = None) -> None:
        self.put(status(text, ident))

    def progress(self, text: str, ident: str, current: int, total: int) -> None:
        """Byte progress, at most every THROTTLE seconds per layer (the last one always)."""
        now = time.monotonic()
        with self._lock:
            if current < total and now - self._last.get(ident + text, 0.0) < THROTTLE:
                return
            self._last[ident + text] = now
        self.put(progress(text, ident, current, total))

    def close(self) -> None:
        self._q.put(self._END)

    def __iter__(self) -> Iterator[dict]:
        while (msg := self._q.get()) is not self._END:
            yield msg


def run_streaming(work, *args) -> Iterator[dict]:
    """Run ``work(channel, *args)`` in a thread and yield its messages as they come.

    An exception in ``work`` ends the stream with docker's error message; the
    caller's HTTP response has already started, so errors travel inside it.
    """
    ch = Channel()

    def target():
        try:
            work(ch, *args)
        except Exception as e:  # any failure must reach the client inside the stream
            if not ch.cancelled.is_set():
                ch.put(error(str(e) or e.__class__.__name__))
        finally:
            ch.close()

    t = threading.Thread(target=target, name="registry-transfer", daemon=True)
    t.start()
    finished = False
    try:
        yield from ch
        finished = True
    finally:
        if not finished:      # the response was closed early: stop the workers
            ch.cancel()
    t.join()
