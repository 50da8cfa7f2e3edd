"""Engine API: /containers/* (docker's routes and shapes)."""
from __future__ import annotations

import json
import time

from dockyard.api.http import JSON, Empty, Hijack, Raw, Stream
from dockyard.api.routes._streams import MUX, RAW, frames_bytes, relay
from dockyard.errors import InvalidArgument


def _svc(engine):
    return engine.containers


def create(req, engine):
    body = req.json()
    if not isinstance(body, dict):
        raise InvalidArgument("container config must be a JSON object")
    return JSON(_svc(engine).create(body, req.query("name") or None), status=201)


def list_(req, engine):
    rows = _svc(engine).list(all=req.query_bool("all"), limit=req.query_int("limit", -1),
                             filters=req.query_json("filters", {}))
    if req.query_bool("size"):  # ps -s: walks each container's layer, as docker does
        for row in rows:
            _add_sizes(engine, row, row["ImageID"])
    return JSON(rows)


def _add_sizes(engine, out: dict, image_id: str) -> None:
    """docker's SizeRw (the container's own layer) and SizeRootFs (with its image)."""
    out["SizeRw"] = _svc(engine).size_rw(out["Id"])
    try:
        out["SizeRootFs"] = engine.images.size(image_id) + out["SizeRw"]
    except Exception:  # noqa: BLE001 - the image went away meanwhile (rmi -f)
        out["SizeRootFs"] = out["SizeRw"]


def inspect(req, engine):
    svc = _svc(engine)
    rec = dict(svc.get(req.match["id"]))
    rec.pop("NetworkingConfig", None)
    if req.query_bool("size"):
        _add_sizes(engine, rec, rec["Image"])
    return JSON(rec)


def start(req, engine):
    _svc(engine).start(req.match["id"])
    return Empty()


def stop(req, engine):
    _svc(engine).stop(req.match["id"], req.query_int("t"), req.query("signal") or None)
    return Empty()


def kill(req, engine):
    _svc(engine).kill(req.match["id"], req.query("signal") or None)
    return Empty()


def restart(req, engine):
    _svc(engine).restart(req.match["id"], req.query_int("t"), req.query("signal") or None)
    return Empty()


def wait(req, engine):
    """200 headers at once; the JSON when the condition holds (docker CLI relies on it)."""
    svc = _svc(engine)
    rec = svc.get(req.match["id"])
    cond = req.query("condition") or "not-running"
    if cond not in ("not-running", "next-exit", "removed"):
        raise InvalidArgument(f"invalid condition: {cond!r}")

    def gen():
        yield b""
        try:
            out = svc.wait(rec["Id"], cond)
        except Exception as e:  # noqa: BLE001 — report in the body, headers are gone
            out = {"StatusCode": -1, "Error": {"Message": str(e)}}
        yield (json.dumps(out) + "\n").encode()
    return Stream(gen(), "application/json")


def remove(req, engine):
    _svc(engine).remove(req.match["id"], force=req.query_bool("force"),
                        volumes=req.query_bool("v"))
    return Empty()


def logs(req, engine):
    svc = _svc(engine)
    rec = svc.get(req.match["id"])
    stdout, stderr = req.query_bool("stdout"), req.query_bool("stderr")
    if not (stdout or stderr):
        raise InvalidArgument("Bad parameters: you must choose at least one stream")
    tail = req.query("tail") or "all"
    if tail != "all" and not tail.lstrip("-").isdigit():
        raise InvalidArgument(f"invalid tail value: {tail!r}")
    n = None if tail == "all" or int(tail) < 0 else int(tail)
    pairs = svc.logs(rec["Id"], stdout, stderr, req.query_bool("follow"), req.query_time("since"),
                     req.query_time("until"), req.query_bool("timestamps"), n)
    tty = rec["Config"]["Tty"]
    return Stream(frames_bytes(pairs, tty), RAW if tty else MUX)


def _detach_keys(spec: str | None) -> bytes:
    from dockyard import detachkeys
    try:
        return detachkeys.parse(spec)
    except ValueError as e:
        raise InvalidArgument(str(e)) from None


def attach(req, engine):
    svc = _svc(engine)
    keys = _detach_keys(req.query("detachKeys"))
    want_stdin = req.query_bool("stdin")
    h = svc.attach_prepare(req.match["id"], want_stdin, req.query_bool("stdout"),
                           req.query_bool("stderr"))
    tty = h["rec"]["Config"]["Tty"]
    past = list(svc.logs(h["rec"]["Id"], True, True)) if req.query_bool("logs") else []

    def run(conn):
        try:
            for chunk in frames_bytes(past, tty):
                conn.sendall(chunk)
            if not req.query_bool("stream", True):
                svc.attach_cancel(h)
                conn.close()
                return
            relay(conn, svc.attach_stream(h), tty, h["opts"]["stdin"], detach_keys=keys)
        finally:
            svc.attach_cancel(h)
    return Hijack(run, RAW if tty else MUX)


def resize(req, engine):
    _svc(engine).resize(req.match["id"], req.query_int("h", 0), req.query_int("w", 0))
    return Raw(b"", "text/plain", 200)


def pause(req, engine):
    _svc(engine).pause(req.match["id"])
    return Empty()


def unpause(req, engine):
    _svc(engine).unpause(req.match["id"])
    return Empty()


def rename(req, engine):
    new = req.query("name")
    if not new:
        raise InvalidArgument("name: the new name is required")
    _svc(engine).rename(req.match["id"], new)
    return Empty()


def update(req, engine):
    body = req.json() or {}
    if not isinstance(body, dict):
        raise InvalidArgument("update: the body must be a JSON object")
    return JSON({"Warnings": _svc(engine).update(req.match["id"], body)})


def top(req, engine):
    return JSON(_svc(engine).top(req.match["id"], req.query("ps_args") or "-ef"))


def stats(req, engine):
    """docker's stats: one sample (stream=false; precpu from a kept or primed sample,
    none with one-shot) or one per second, each with the previous one as precpu."""
    svc = _svc(engine)
    rec = svc.get(req.match["id"])
    stream, one_shot = req.query_bool("stream", True), req.query_bool("one-shot")
    if stream and one_shot:
        raise InvalidArgument("cannot have stream=true and one-shot=true")
    if not stream:
        return JSON(svc.stats(rec["Id"], one_shot=one_shot))

    def gen():
        from dockyard.errors import NotFound
        prev = None
        while True:
            try:  # the first one's precpu is kept or primed, as the stream=false answer
                cur = svc.stats(rec["Id"], previous=prev)
            except NotFound:
                return  # removed: docker's collector stops and the stream ends
            prev = cur if cur["read"] != "0001-01-01T00:00:00Z" else None
            yield (json.dumps(cur) + "\n").encode()
            time.sleep(1)
    return Stream(gen(), "application/json")


def prune(req, engine):
    from dockyard.api import filters
    return JSON(_svc(engine).prune(filters.of(req, filters.CONTAINER_PRUNE)))


def changes(req, engine):
    return JSON(_svc(engine).changes(req.match["id"]))


def export(req, engine):
    return Stream(_svc(engine).export(req.match["id"]), "application/x-tar")


def archive_get(req, engine):
    path = req.query("path")
    if not path:
        raise InvalidArgument("path: the path is required")
    head = req.method == "HEAD"
    stat, chunks = _svc(engine).archive_get(req.match["id"], path, stat_only=head)
    headers = {"X-Docker-Container-Path-Stat": stat}
    if head:
        return Raw(b"", "application/x-tar", 200, headers)
    return Stream(chunks, "application/x-tar", headers=headers)


def archive_put(req, engine):
    path = req.query("path")
    if not path:
        raise InvalidArgument("path: the path is required")
    _svc(engine).archive_put(req.match["id"], path, req.body,
                             no_overwrite=req.query_bool("noOverwriteDirNonDir"))
    return Raw(b"", "text/plain", 200)


def commit(req, engine):
    body = req.json() or {}
    out = _svc(engine).commit(req.query("container") or "", repo=req.query("repo") or "",
                              tag=req.query("tag") or "", comment=req.query("comment") or "",
                              author=req.query("author") or "", changes=req.query_all("changes"),
                              pause=req.query_bool("pause", True), config=body)
    return JSON({"Id": out}, status=201)


ROUTES = [
    ("POST", "/containers/create", create),
    ("GET", "/containers/json", list_),
    ("POST", "/containers/prune", prune),
    ("POST", "/commit", commit),
    ("GET", "/containers/{id}/json", inspect),
    ("POST", "/containers/{id}/start", start),
    ("POST", "/containers/{id}/stop", stop),
    ("POST", "/containers/{id}/kill", kill),
    ("POST", "/containers/{id}/restart", restart),
    ("POST", "/containers/{id}/wait", wait),
    ("DELETE", "/containers/{id}", remove),
    ("GET", "/containers/{id}/logs", logs),
    ("POST", "/containers/{id}/attach", attach),
    ("POST", "/containers/{id}/resize", resize),
    ("POST", "/containers/{id}/pause", pause),
    ("POST", "/containers/{id}/unpause", unpause),
    ("POST", "/containers/{id}/rename", rename),
    ("POST", "/containers/{id}/update", update),
    ("GET", "/containers/{id}/top", top),
    ("GET", "/containers/{id}/stats", stats),
    ("GET", "/containers/{id}/changes", changes),
    ("GET", "/containers/{id}/export", export),
    ("GET", "/containers/{id}/archive", archive_get),
    ("HEAD", "/containers/{id}/archive", archive_get),
    ("PUT", "/containers/{id}/archive", archive_put),
]
