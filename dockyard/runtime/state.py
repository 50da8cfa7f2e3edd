"""Container status and the per-container state directory (``<root>/<id>/``).

::

    <root>/<id>/state.json   what create recorded: pid, start time, bundle, cgroup...
    <root>/<id>/exec.fifo    exists from create until start (its presence = "created")

The status is derived, never stored: the init's pid plus its start time (so a
recycled pid is not mistaken for the container) says whether it is alive; the
fifo says created vs running; the freezer says paused.

    creating ──► created ──start──► running ◄──pause/resume──► paused
                    │                  │
                    └──────exit────────┴──► stopped ──delete──► (gone)
"""
from __future__ import annotations

import os

from dockyard.errors import AlreadyExists, Conflict, InvalidArgument, NotFound
from dockyard.runtime import jsonio

OCI_VERSION = "1.0.2-dev"
_ID_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_+-.")


class Status(str):
    """A container status; the five values are class attributes (``Status.RUNNING``).

    A plain ``str`` subclass rather than an Enum: importing :mod:`enum` costs
    milliseconds on every CLI call.
    """
    CREATING: "Status"
    CREATED: "Status"
    RUNNING: "Status"
    PAUSED: "Status"
    STOPPED: "Status"

    @property
    def value(self) -> str:
        return str(self)

    def can_start(self) -> bool:
        return self is Status.CREATED

    def can_kill(self) -> bool:
        return self in (Status.CREATED, Status.RUNNING, Status.PAUSED)

    def can_delete(self) -> bool:
        return self in (Status.STOPPED, Status.CREATED)


for _name in ("creating", "created", "running", "paused", "stopped"):
    setattr(Status, _name.upper(), Status(_name))


def check_id(container_id: str) -> str:
    """runc's rule for IDs: letters, digits, ``_ + - .``; not ``.``/``..``."""
    if (not container_id or not _ID_CHARS.issuperset(container_id)
            or container_id in (".", "..")):
        raise InvalidArgument(f"invalid container id format: {container_id!r}")
    return container_id


def proc_start_time(pid: int) -> int | None:
    """Field 22 of /proc/<pid>/stat (start time in clock ticks); None if gone or a zombie."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            data = f.read()
    except OSError:
        return None
    fields = data[data.rindex(b")") + 2:].split()
    if fields[0] in (b"Z", b"X"):
        return None
    return int(fields[19])


class StateDir:
    """The state directory of one container under the runtime root."""

    def __init__(self, root: str, container_id: str):
        self.id = check_id(container_id)
        self.path = os.path.join(root, container_id)
        self.state_file = os.path.join(self.path, "state.json")
        self.fifo = os.path.join(self.path, "exec.fifo")

    def exists(self) -> bool:
        return os.path.exists(self.state_file)

    def make(self) -> None:
        """Create the directory; an existing one means the ID is taken."""
        os.makedirs(os.path.dirname(self.path), mode=0o711, exist_ok=True)
        try:
            os.mkdir(self.path, 0o711)
        except FileExistsError:
            raise AlreadyExists(f"container with id exists: {self.id}") from None

    def load(self) -> dict:
        try:
            with open(self.state_file, "rb") as f:
                return jsonio.loads(f.read())
        except FileNotFoundError:
            raise NotFound("container does not exist") from None
        except ValueError as e:
            raise Conflict(f"{self.state_file}: corrupt state: {e}") from None

    def save(self, record: dict) -> None:
        """Write atomically: a reader never sees a half-written state."""
        self.stage(record)
        self.commit()

    def stage(self, record: dict) -> None:
        """Write the state where nobody reads it yet (:meth:`commit` publishes it)."""
        with open(self.state_file + ".tmp", "w") as f:
            f.write(jsonio.dumps(record))

    def commit(self) -> None:
        os.rename(self.state_file + ".tmp", self.state_file)

    def remove(self) -> None:
        for name in ("state.json", "state.json.tmp", "exec.fifo", "config.json"):
            try:
                os.unlink(os.path.join(self.path, name))
            except FileNotFoundError:
                pass
        try:
            os.rmdir(self.path)
        except FileNotFoundError:
            pass


def status_of(record: dict, fifo: str, frozen: bool = False) -> Status:
    """Derive the live status from a state record."""
    pid = record.get("pid") or 0
    if pid <= 0 or proc_start_time(pid) != record.get("start_time"):
        return Status.STOPPED
    if os.path.exists(fifo):
        return Status.CREATED
    return Status.PAUSED if frozen else Status.RUNNING


def oci_state(record: dict, status: Status) -> dict:
    """The OCI state object (what ``state`` prints and hooks read on stdin)."""
    state = {
        "ociVersion": OCI_VERSION,
        "id": record["id"],
        "pid": record.get("pid", 0) if status is not Status.STOPPED else 0,
        "status": status.value,
        "bundle": record["bundle"],
        "rootfs": record.get("rootfs", ""),
        "created": record.get("created", ""),
        "owner": "",
    }
    if record.get("annotations"):
        state["annotations"] = record["annotations"]
    return state
