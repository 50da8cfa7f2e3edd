"""The supervisor's named requests (see :mod:`dockyard.supervisor.protocol`).

Each ``op_x(conn, msg)`` returns the reply fields, or None when the reply comes later
(``wait``) or the connection turned into a stream (``attach``, ``subscribe``).
"""
from __future__ import annotations

import signal as _signal

from dockyard.errors import Conflict, NotFound
from dockyard.supervisor import protocol as P
from dockyard.supervisor.procs import Proc


class OpsMixin:
    def _get(self, id: str) -> Proc:
        p = self.procs.get(id)
        if p is None:
            raise NotFound(f"supervisor: no such container or exec: {id}")
        return p

    def op_ping(self, c, msg):
        from dockyard.supervisor.codeid import code_id
        return {"pid": __import__("os").getpid(), "code": code_id(), "runtime": self.runtime,
                "procs": len(self.procs)}

    def op_retire(self, c, msg):
        """Exit now, if nothing runs here (the daemon replaces a supervisor whose code is
        not its own); with containers or execs a Conflict."""
        if self.procs:
            raise Conflict(f"supervisor: {len(self.procs)} containers/execs still here")
        self.running = False
        return {}

    def op_create(self, c, msg):
        """Create the container through the runtime; its init waits for ``start``."""
        if msg["id"] in self.procs:
            raise Conflict(f"supervisor: {msg['id']} exists")
        p = Proc(msg["id"], msg)
        self.spawn(p)
        self.procs[p.id] = p
        return {"pid": p.pid}

    def op_start(self, c, msg):
        p = self._get(msg["id"])
        if p.status == "exited":  # docker start of an exited container: create it again
            self.driver.delete(p.id, force=True)
            self.close_fds(p)
            self.spawn(p)
        p.manual_stop = False
        self.driver.start(p.id)
        p.mark_started()
        return {"pid": p.pid, "started_at": p.started_at}

    def op_kill(self, c, msg):
        """Signal the container (``manual`` = docker stop/kill: no restart afterwards)."""
        p = self._get(msg["id"])
        if msg.get("manual"):
            p.manual_stop = True
            if p.restart_pending:  # stopping a restarting container just cancels the restart
                p.restart_pending = None
                self.publish({"event": "exit", "id": p.id, "kind": p.kind, "restarting": False,
                              "exit_code": p.exit_code, "finished_at": p.finished_at,
                              "started_at": p.started_at, "restart_count": p.restart_count})
                return {}
        if p.status != "running" or p.reaped_at is not None:
            raise Conflict(f"container {p.id} is not running")
        sig = _signum(msg.get("signal", "SIGTERM"))
        if p.kind == "exec":
            __import__("os").kill(p.pid, sig)
        else:
            self.driver.kill(p.id, sig, bool(msg.get("all")))
        return {}

    def op_delete(self, c, msg):
        p = self.procs.get(msg["id"])
        if p is not None and p.status == "running" and p.reaped_at is None and not msg.get("force"):
            raise Conflict(f"container {p.id} is running")
        if p is None or p.kind == "container":
            try:
                self.driver.delete(msg["id"], force=True)
            except NotFound:
                pass
        if p is not None:
            self._forget(p)
        return {}

    def _forget(self, p: Proc) -> None:
        self.close_fds(p)
        if p.log:
            p.log.close()
        self.procs.pop(p.id, None)
        self.by_pid.pop(p.pid, None)
        for c in p.attachers:
            self.end(c)
        for e in [q for q in self.procs.values() if q.kind == "exec" and q.container == p.id]:
            self._forget(e)

    def op_exec(self, c, msg):
        """Run a process in a running container; with ``attach`` this connection streams it."""
        ctr = self._get(msg["container"])
        if ctr.status != "running" or ctr.reaped_at is not None:
            raise Conflict(f"container {ctr.id} is not running")
        p = Proc(msg["id"], msg, kind="exec")
        if msg.get("attach"):
            self._attach(c, p, msg)
        self.spawn(p)
        p.mark_started()
        self.procs[p.id] = p
        out = {"pid": p.pid}
        if msg.get("attach"):
            self.send(c, P.encode({"ok": True, **out}))
            return None
        return out

    def op_attach(self, c, msg):
        p = self._get(msg["id"])
        self.reply(c, ok=True)
        self._attach(c, p, msg)
        if p.status == "exited" and not p.restart_pending:
            self.send(c, P.frame(P.EXIT, P.encode({"exit_code": p.exit_code})))
            self.end(c)
        return None

    def _attach(self, c, p: Proc, msg) -> None:
        c.mode, c.proc = "attach", p
        c.streams = {s for s in ("stdout", "stderr") if msg.get(s, True)}
        p.attachers.append(c)

    def op_update(self, c, msg):
        """``docker update --restart``: the policy applies from the next exit on."""
        p = self._get(msg["id"])
        p.msg = dict(p.msg, restart=msg.get("restart") or {})
        return {}

    def op_state(self, c, msg):
        return self._get(msg["id"]).info()

    def op_list(self, c, msg):
        return {"procs": [p.info() for p in self.procs.values()]}

    def op_resize(self, c, msg):
        self._get(msg["id"]).resize(int(msg["h"]), int(msg["w"]))
        return {}

    def op_wait(self, c, msg):
        p = self._get(msg["id"])
        if p.status == "exited" and not p.restart_pending:
            return {"exit_code": p.exit_code, "finished_at": p.finished_at}
        p.waiters.append(c)
        return None

    def op_subscribe(self, c, msg):
        c.mode = "subscribe"
        self.subscribers.append(c)
        return {"procs": [p.info() for p in self.procs.values()]}


def _signum(sig) -> int:
    if isinstance(sig, int) or str(sig).isdigit():
        return int(sig)
    name = str(sig).upper()
    return int(getattr(_signal, name if name.startswith("SIG") else "SIG" + name))
