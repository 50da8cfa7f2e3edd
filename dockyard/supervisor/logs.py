"""docker's json-file log format: write with rotation, read with tail/since/until/follow.

Each line is ``{"log":"hi\\n","stream":"stdout","time":"2024-01-02T03:04:05.123456789Z"}``.
The writer rotates ``<id>-json.log`` → ``.1`` → ``.2`` … when it passes ``max_size`` and
keeps ``max_file`` files in all. The reader finds the last N lines by reading the file
backwards in blocks, so ``logs --tail 10`` on a huge log starts at once.
"""
from __future__ import annotations

import json
import os
import time
from typing import Iterator

BLOCK = 64 * 1024
MAX_PARTIAL = 16 * 1024  # docker splits lines longer than 16K


def rfc3339nano(ns: int | None = None) -> str:
    ns = time.time_ns() if ns is None else ns
    sec, frac = divmod(ns, 1_000_000_000)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(sec)) + f".{frac:09d}Z"


def parse_time(s: str) -> float:
    """RFC3339(Nano) → unix seconds (float)."""
    import calendar
    base, _, frac = s.rstrip("Z").partition(".")
    secs = calendar.timegm(time.strptime(base[:19], "%Y-%m-%dT%H:%M:%S"))
    return secs + (float("0." + frac) if frac else 0.0)


class LogWriter:
    """Appends docker json-file lines for one container; rotates by size."""

    def __init__(self, path: str, max_size: int = 0, max_file: int = 1):
        self.path = path
        self.max_size = max_size
        self.max_file = max(1, max_file)
        self._partial = {"stdout": b"", "stderr": b""}
        self._fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o640)
        self._size = os.fstat(self._fd).st_size

    def write(self, stream: str, data: bytes) -> None:
        """Record output; complete lines are written now, a partial one when it completes."""
        buf = self._partial[stream] + data
        lines = buf.split(b"\n")
        self._partial[stream] = lines.pop()
        out = [self._line(stream, ln + b"\n") for ln in lines]
        while len(self._partial[stream]) >= MAX_PARTIAL:
            chunk, self._partial[stream] = (self._partial[stream][:MAX_PARTIAL],
                                            self._partial[stream][MAX_PARTIAL:])
            out.append(self._line(stream, chunk))
        if out:
            self._append(b"".join(out))

    def flush(self) -> None:
        """Write partial lines (at process exit)."""
        for stream, rest in self._partial.items():
            if rest:
                self._partial[stream] = b""
                self._append(self._line(stream, rest))

    def _line(self, stream: str, data: bytes) -> bytes:
        rec = {"log": data.decode("utf-8", "replace"), "stream": stream, "time": rfc3339nano()}
        return json.dumps(rec, ensure_ascii=False).encode() + b"\n"

    def _append(self, data: bytes) -> None:
        if self.max_size and self._size and self._size + len(data) > self.max_size:
            self._rotate()
        os.write(self._fd, data)
        self._size += len(data)

    def _rotate(self) -> None:
        os.close(self._fd)
        if self.max_file <= 1:
            os.truncate(self.path, 0)
        else:
            for i in range(self.max_file - 1, 0, -1):
                src = self.path if i == 1 else f"{self.path}.{i - 1}"
                if os.path.exists(src):
                    os.replace(src, f"{self.path}.{i}")
        self._fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o640)
        self._size = 0

    def close(self) -> None:
        self.flush()
        os.close(self._fd)


def log_files(path: str) -> list[str]:
    """The log and its rotated files, oldest first."""
    rotated, i = [], 1
    while os.path.exists(f"{path}.{i}"):
        rotated.append(f"{path}.{i}")
        i += 1
    return list(reversed(rotated)) + ([path] if os.path.exists(path) else [])


def tail_lines(path: str, n: int, limit: int | None = None) -> list[bytes]:
    """The last ``n`` lines of one file (of its first ``limit`` bytes), reading backwards."""
    with open(path, "rb") as f:
        f.seek(0, os.SEEK_END)
        pos, data = f.tell() if limit is None else min(limit, f.tell()), b""
        while pos > 0 and data.count(b"\n") <= n:
            step = min(BLOCK, pos)
            pos -= step
            f.seek(pos)
            data = f.read(step) + data
    lines = [ln for ln in data.split(b"\n") if ln]
    return lines[-n:] if n else []


def read_records(path: str, tail: int | None = None) -> tuple[list[dict], int]:
    """Past records (all, or the last ``tail``) and the current file's end offset."""
    files = log_files(path)
    # Only what is there now, up to ``end``: lines appended meanwhile are the follower's,
    # which starts at ``end`` (reading past it here would give them twice).
    end = os.path.getsize(path) if os.path.exists(path) else 0
    raw: list[bytes] = []
    if tail is None:
        for p in files:
            with open(p, "rb") as f:
                data = f.read(end) if p == path else f.read()
            raw.extend(ln for ln in data.split(b"\n") if ln)
    else:
        for p in reversed(files):
            if len(raw) >= tail:
                break
            raw = tail_lines(p, tail - len(raw), end if p == path else None) + raw
    return [_decode(ln) for ln in raw if ln], end


def _decode(line: bytes) -> dict:
    try:
        return json.loads(line)
    except ValueError:
        return {"log": line.decode("utf-8", "replace") + "\n", "stream": "stdout", "time": ""}


def follow(path: str, offset: int, alive, interval: float = 0.05,
           wake_fd: int | None = None, safety: float = 1.0) -> Iterator[dict]:
    """Yield records appended after ``offset`` while ``alive()``; survives rotation.

    The log is read through one open handle, not reopened by name: a client that reads a
    follow stream only after removing the container (docker-py's ``run(remove=True)``
    does) must still get every line, although the file is gone by then.

    Between reads it sleeps until the log's directory changes (inotify: a write, a
    rotation, a removal) or ``wake_fd`` becomes readable (the engine signals it when the
    container's state changes, so the end of a stopped container is seen at once), at
    most ``safety`` seconds; without inotify it polls every ``interval`` seconds.
    """
    watch = _DirWatch.open(os.path.dirname(path) or ".") if interval else None
    f = _open_log(path)
    buf = b""
    try:
        while True:
            running = alive()  # before reading: once it is False, the log is complete
            if f is None:
                f, offset = _open_log(path), 0
            chunk = b""
            if f is not None:
                f.seek(offset)
                chunk = f.read()
            if chunk:
                offset += len(chunk)
                *lines, buf = (buf + chunk).split(b"\n")
                for ln in lines:
                    if ln:
                        yield _decode(ln)
                continue
            if f is not None and _replaced(path, f):  # rotated or removed: drain, move on
                f.seek(offset)
                *lines, buf = (buf + f.read()).split(b"\n")  # written just before the swap
                for ln in lines:
                    if ln:
                        yield _decode(ln)
                f.close()
                f, buf = None, b""
                if not os.path.exists(path) and not running:
                    return
                continue
            if not running:
                return
            if watch is not None:
                watch.wait(safety, wake_fd)
            else:
                time.sleep(interval)
    finally:
        if f is not None:
            f.close()
        if watch is not None:
            watch.close()


class _DirWatch:
    """An inotify watch on one directory (ctypes: the stdlib has no binding). Events
    queue from the moment the watch exists, so a write between a read and :meth:`wait`
    still wakes it."""
    # IN_MODIFY, IN_CLOSE_WRITE, IN_MOVED_FROM, IN_MOVED_TO, IN_CREATE, IN_DELETE,
    # IN_DELETE_SELF
    MASK = 0x2 | 0x8 | 0x40 | 0x80 | 0x100 | 0x200 | 0x400
    _libc = None

    def __init__(self, fd: int):
        self.fd = fd

    @classmethod
    def open(cls, directory: str) -> "_DirWatch | None":
        """None where inotify is unavailable (the caller polls instead)."""
        try:
            if cls._libc is None:
                import ctypes
                cls._libc = ctypes.CDLL(None, use_errno=True)
            fd = cls._libc.inotify_init1(os.O_NONBLOCK | os.O_CLOEXEC)
            if fd < 0:
                return None
            if cls._libc.inotify_add_watch(fd, os.fsencode(directory), cls.MASK) < 0:
                os.close(fd)
                return None
        except (OSError, AttributeError):
            return None
        return cls(fd)

    def wait(self, timeout: float, extra_fd: int | None = None) -> None:
        """Until the directory changes, ``extra_fd`` is readable, or ``timeout``; both
        are drained (only "something changed" matters; ``extra_fd`` is a nonblocking
        eventfd or pipe of this caller's own)."""
        import select
        fds = [self.fd] if extra_fd is None else [self.fd, extra_fd]
        try:
            ready, _, _ = select.select(fds, [], [], timeout)
        except (OSError, ValueError):  # extra_fd closed under us: poll-like fallback
            time.sleep(0.05)
            return
        for fd in ready:  # drain: readable again only after a new change
            try:
                while os.read(fd, 65536 if fd == self.fd else 8):
                    pass
            except (BlockingIOError, OSError):
                pass

    def close(self) -> None:
        os.close(self.fd)


def _open_log(path: str):
    try:
        return open(path, "rb")
    except FileNotFoundError:
        return None


def _replaced(path: str, f) -> bool:
    """The name no longer points at the file we hold open."""
    try:
        return os.stat(path).st_ino != os.fstat(f.fileno()).st_ino
    except FileNotFoundError:
        return True
