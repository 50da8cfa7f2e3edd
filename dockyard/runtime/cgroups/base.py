"""File helpers both cgroup drivers share (the interface is in ``manager.py``)."""
from __future__ import annotations

import errno
import os
import time


def write(path: str, value) -> None:
    """Write one value to a cgroup file; the error names the file."""
    try:
        with open(path, "w") as f:
            f.write(str(value))
    except OSError as e:
        raise OSError(e.errno, f"write {value!r}: {e.strerror}", path) from None


def read(path: str) -> str:
    with open(path) as f:
        return f.read().strip()


def read_int(path: str) -> int | None:
    try:
        value = read(path)
    except OSError:
        return None
    if value == "max":
        return -1
    try:
        return int(value)
    except ValueError:
        return None


def read_text(path: str) -> str:
    """A cgroup file's text; "" when it (or its controller) is missing."""
    try:
        with open(path) as f:
            return f.read()
    except OSError:
        return ""


def read_kv(path: str) -> dict[str, int]:
    """``key value`` lines (memory.stat, cpu.stat, cpuacct.stat) as ints; lines that
    are not a name and one integer are skipped."""
    out: dict[str, int] = {}
    for line in read_text(path).splitlines():
        parts = line.split()
        if len(parts) == 2:
            try:
                out[parts[0]] = int(parts[1])
            except ValueError:
                pass
    return out


def read_pids(path: str) -> list[int]:
    try:
        with open(path) as f:
            return [int(line) for line in f if line.strip()]
    except FileNotFoundError:
        return []


def join_self(fds: list[int]) -> None:
    """Move the calling (single-threaded) process into the cgroup through the
    ``tasks`` files a driver's ``join_files()`` opened; close them either way.
    The error names the cgroup directory."""
    try:
        for fd in fds:
            try:
                os.write(fd, b"0")
            except OSError as e:
                try:
                    where = os.readlink(f"/proc/self/fd/{fd}")
                except OSError:
                    where = None
                raise OSError(e.errno, f"join cgroup: {e.strerror}", where) from None
    finally:
        for fd in fds:
            os.close(fd)


def make_dirs(base: str, rel: str, created: list[str], init=None) -> str:
    """mkdir each level of ``rel`` under ``base``; record the new ones in ``created``.

    The leaf is tried first: its parents (``/dockyard``) nearly always exist
    already, so that is one mkdir per hierarchy instead of one per level. New
    levels are made top-down, each ``init``-ed before its child is made."""
    parts = [p for p in rel.split("/") if p]
    path = os.path.join(base, *parts)
    missing: list[str] = []  # levels under the first existing one, deepest first
    target = path
    while parts:
        try:
            os.mkdir(target, 0o755)
        except FileExistsError:
            break
        except FileNotFoundError:
            if len(missing) + 1 >= len(parts):
                raise  # ``base`` itself is missing
            missing.append(target)
            target = os.path.dirname(target)
            continue
        created.append(target)
        if init:
            init(target)
        break
    for level in reversed(missing):
        try:
            os.mkdir(level, 0o755)
        except FileExistsError:
            continue  # made meanwhile by someone else: not ours to remove
        created.append(level)
        if init:
            init(level)
    return path


def remove_dirs(created: list[str], leaves: set[str], depth: int = 0) -> None:
    """rmdir what we created, deepest first, then up to ``depth`` now-empty parents
    of each leaf (another container may have made them); a parent in use stays."""
    parents = set()
    for leaf in leaves:
        for _ in range(depth):
            leaf = os.path.dirname(leaf)
            parents.add(leaf)
    for path in sorted(set(created) | parents, key=len, reverse=True):
        for attempt in range(50):
            try:
                os.rmdir(path)
                break
            except FileNotFoundError:
                break
            except OSError as e:
                if e.errno == errno.EBUSY and path in leaves and attempt < 49:
                    # the kernel takes a moment to drop a task that just exited
                    time.sleep(0.002)
                    continue
                if path not in leaves and e.errno in (errno.EBUSY, errno.ENOTEMPTY):
                    break  # a parent other containers still use
                raise OSError(e.errno, f"rmdir: {e.strerror}", path) from None
