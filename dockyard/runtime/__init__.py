"""dockyard-runtime: an OCI runtime with runc's command-line contract.

In-process API (the supervisor calls it; keep it stable)::

    from dockyard.runtime import Runtime
    rt = Runtime("/run/dockyard/runtime")
    pid = rt.create("c1", "/path/to/bundle", stdio=(0, w, w))   # init waits on exec fifo
    rt.start("c1"); rt.state("c1"); rt.kill("c1", "SIGTERM"); rt.delete("c1")
    rt.exec("c1", {"args": ["sh"], "cwd": "/", "env": [...]})    # pid of the new process

The init and exec'd processes are children of the caller (CLONE_PARENT), so the
caller reaps them. Imports stay lean: cgroups, mounts, seccomp load on use.
"""
from dockyard.runtime.container import Runtime, parse_signal

__all__ = ["Runtime", "parse_signal"]
