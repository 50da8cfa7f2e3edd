"""cgroup drivers: v1 (one hierarchy per controller) and v2 (unified).

Lifecycle of a :class:`~dockyard.runtime.cgroups.base.Manager`::

    m = manager_for("/dockyard/<id>")    # picks v1 or v2 from the cgroupfs root
    m.create(); m.set(resources)          # mkdir (recording what it made); write limits
    m.apply(pid)                          # move a process in (cgroup.procs)
    m.freeze() / m.thaw(); m.stats(); m.pids()
    m.destroy()                           # rmdir what create() made

``root`` is the cgroupfs mount (``/sys/fs/cgroup``); tests pass a fake tree.
"""
from __future__ import annotations

import os

CGROUP_ROOT = "/sys/fs/cgroup"


def is_v2(root: str = CGROUP_ROOT) -> bool:
    """True on a unified (v2-only) hierarchy."""
    return os.path.exists(os.path.join(root, "cgroup.controllers"))


def manager_for(path: str, root: str = CGROUP_ROOT, state: dict | None = None):
    """The driver (a ``manager.Manager``) for this machine's cgroupfs, for ``path``."""
    if is_v2(root):
        from dockyard.runtime.cgroups.v2 import V2Manager
        return V2Manager(path, root, state)
    from dockyard.runtime.cgroups.v1 import V1Manager
    return V1Manager(path, root, state)
