"""Removing a build's scratch (contexts, step snapshots) off the build's critical path.

Deleting thousands of files is slow on this kind of machine (ext4 mounted with
``discard``: ≈ 2 ms per unlink under load), and nothing waits for the result: a
context dir or a step's snapshot is dead once the step is committed. So removals go
to one background thread. A crash before it finishes leaves only scratch that
``BuildService.recover()`` and the snapshotter's ``recover()`` clean at start-up.
"""
from __future__ import annotations

import logging
import queue
import shutil
import threading
from typing import Callable

log = logging.getLogger(__name__)


class Reaper:
    """A queue of removal jobs run one after another by a daemon thread."""

    def __init__(self) -> None:
        self._q: queue.Queue = queue.Queue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def submit(self, job: Callable[[], None]) -> None:
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._loop, name="build-reaper", daemon=True)
                self._thread.start()
        self._q.put(job)

    def remove_tree(self, path: str) -> None:
        self.submit(lambda: shutil.rmtree(path, ignore_errors=True))

    def remove_snapshot(self, snapshots, key: str) -> None:
        self.submit(lambda: snapshots.remove(key))

    def _loop(self) -> None:
        while True:
            job = self._q.get()
            try:
                job()
            except Exception:  # noqa: BLE001 - scratch cleanup must never kill the thread
                log.exception("build cleanup failed")
            finally:
                self._q.task_done()

    def wait(self) -> None:
        """Block until every queued removal is done (tests, shutdown)."""
        self._q.join()
