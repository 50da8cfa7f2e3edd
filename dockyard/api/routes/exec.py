"""Engine API: exec instances (POST /containers/{id}/exec, /exec/{id}/start|resize|json)."""
from __future__ import annotations

from dockyard.api.http import JSON, Empty, Hijack, Raw
from dockyard.api.routes._streams import MUX, RAW, relay
from dockyard.errors import Conflict


def create(req, engine):
    body = req.json() or {}
    from dockyard.api.routes.containers import _detach_keys
    _detach_keys(body.get("DetachKeys"))  # a bad value: 400 at create, as docker
    eid = engine.containers.exec_create(req.match["id"], body)
    return JSON({"Id": eid}, status=201)


def start(req, engine):
    svc = engine.containers
    body = req.json() or {}
    ex = svc.exec_get(req.match["id"])
    if ex["Running"] or ex["ExitCode"] is not None:
        raise Conflict(f"Error: Exec command {ex['ID']} has already run")
    tty = bool(body.get("Tty", ex["ProcessConfig"]["tty"]))
    if body.get("Detach"):
        svc.exec_start(ex["ID"], detach=True, tty=tty)
        return Empty()
    svc.get(ex["ContainerID"])  # 404 now rather than inside the stream
    from dockyard import detachkeys
    keys = detachkeys.parse(ex.get("DetachKeys") or None)  # checked at create

    def run(conn):
        try:
            stream = svc.exec_start(ex["ID"], detach=False, tty=tty)
        except Exception as e:  # noqa: BLE001 — headers are gone; say it in the stream
            conn.sendall(f"Error: {e}\r\n".encode())
            conn.close()
            return
        relay(conn, stream, tty, ex["OpenStdin"],
              on_exit=lambda rec: svc.exec_exited(ex["ID"], rec.get("exit_code")),
              detach_keys=keys)
    return Hijack(run, RAW if tty else MUX)


def resize(req, engine):
    engine.containers.resize(req.match["id"], req.query_int("h", 0), req.query_int("w", 0),
                             exec_=True)
    return Raw(b"", "text/plain", 200)


def inspect(req, engine):
    return JSON(engine.containers.exec_inspect(req.match["id"]))


ROUTES = [
    ("POST", "/containers/{id}/exec", create),
    ("POST", "/exec/{id}/start", start),
    ("POST", "/exec/{id}/resize", resize),
    ("GET", "/exec/{id}/json", inspect),
]
