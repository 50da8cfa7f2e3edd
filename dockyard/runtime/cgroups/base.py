"""What a cgroup driver offers, and the file helpers both drivers share."""
from __future__ import annotations

import errno
import os
import time
from typing import Protocol


class Manager(Protocol):
    """One container's cgroup, under whichever hierarchy this machine has.

    ``path`` is the cgroupsPath from config.json (``/dockyard/<id>``), relative to
    the root of each hierarchy. ``created`` lists directories :meth:`create`
    made, so :meth:`destroy` removes exactly those (saved in the state file).
    """

    path: str
    created: list[str]

    def create(self) -> None: ...
    def apply(self, pid: int) -> None: ...
    def set(self, resources: dict) -> None: ...
    def pids(self) -> list[int]: ...
    def freeze(self) -> None: ...
    def thaw(self) -> None: ...
    def frozen(self) -> bool: ...
    def stats(self) -> dict: ...
    def destroy(self) -> None: ...
    def mount_into(self, dest: str, flags: int, cgroupns: bool) -> None: ...
    def to_state(self) -> dict: ...


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


def read_pids(path: str) -> list[int]:
    try:
        with open(path) as f:
            return [int(line) for line in f if line.strip()]
    except FileNotFoundError:
        return []


def make_dirs(base: str, rel: str, created: list[str], init=None) -> str:
    """mkdir each level of ``rel`` under ``base``; record the new ones in ``created``."""
    path = base
    for part in [p for p in rel.split("/") if p]:
        path = os.path.join(path, part)
        try:
            os.mkdir(path, 0o755)
        except FileExistsError:
            continue
        created.append(path)
        if init:
            init(path)
    return path


def remove_dirs(created: list[str], leaves: set[str]) -> None:
    """rmdir what we created, deepest first; a shared parent still in use stays."""
    for path in sorted(created, key=len, reverse=True):
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
