"""Image routes: list, inspect, history, tag, remove, import/pull, load, save, prune, df."""
from __future__ import annotations

from dockyard.api.http import JSON, Empty, JSONStream, Stream
from dockyard.errors import InvalidArgument
from dockyard.oci import reference


def filters_of(req) -> dict[str, list[str]]:
    """docker's ``filters`` JSON (``{"k":["v"]}`` or legacy ``{"k":{"v":true}}``) as lists."""
    raw = req.query_json("filters", {}) or {}
    if not isinstance(raw, dict):
        raise InvalidArgument("invalid filters: expected a JSON object")
    out = {}
    for key, value in raw.items():
        if isinstance(value, dict):
            out[key] = [k for k, on in value.items() if on]
        elif isinstance(value, list):
            out[key] = [str(v) for v in value]
        else:
            out[key] = [str(value)]
    return out


def list_images(req, engine):
    return JSON(engine.images.list(all=req.query_bool("all"), filters=filters_of(req)))


def inspect(req, engine):
    return JSON(engine.images.inspect(req.match["name"]))


def history(req, engine):
    return JSON(engine.images.history(req.match["name"]))


def tag(req, engine):
    repo = req.query("repo")
    if not repo:
        raise InvalidArgument("repository name must have at least one component")
    target = reference.parse_repo_tag(repo, req.query("tag") or None)
    engine.images.tag(req.match["name"], str(target))
    return Empty(201)


def remove(req, engine):
    return JSON(engine.images.remove(req.match["name"], force=req.query_bool("force"),
                                     noprune=req.query_bool("noprune")))


def create(req, engine):
    """``fromSrc=-``: import the body; ``fromImage``: pull (the registry service)."""
    if req.query("fromImage"):
        from dockyard.api.routes.registry import registry_auth
        return JSONStream(engine.registry.pull_stream(
            req.query("fromImage"), req.query("tag") or None, req.query("platform") or None,
            registry_auth(req)))
    src = req.query("fromSrc")
    if not src:
        raise InvalidArgument("fromImage or fromSrc is required")
    repo = req.query("repo") or None
    ref = str(reference.parse_repo_tag(repo, req.query("tag") or None)) if repo else None
    if src != "-":  # a URL the daemon fetches (docker import URL)
        image_id = engine.images.import_url(src, ref, req.query_all("changes"),
                                            req.query("message") or "")
        return JSONStream([{"status": f"Downloading from {src}"}, {"status": image_id}])
    image_id = engine.images.import_image(req.body, ref, req.query_all("changes"),
                                          req.query("message") or "", "-")
    return JSONStream([{"status": image_id}])


def load(req, engine):
    messages = engine.images.load_archive(req.body, "the tar archive")
    return JSONStream([{"stream": m + "\n"} for m in messages])


def save(req, engine):
    names = req.query_all("names")
    if "name" in req.match:
        names = [req.match["name"]]
    chunks = engine.images.save(names, req.query("format") or "docker-archive")
    return Stream(chunks, "application/x-tar")


def prune(req, engine):
    from dockyard.api import filters as f
    filters = f.of(req, f.IMAGE_PRUNE)
    dangling = [v.lower() for v in filters.get("dangling", ["true"])]
    labels = filters.get("label", []) + ["!" + x for x in filters.get("label!", [])]
    return JSON(engine.images.prune(all_images="false" in dangling or "0" in dangling,
                                    labels=labels, until=f.until(filters)))


def _service_df(engine, name: str) -> list:
    """Another service's part of ``system df`` when it provides one."""
    try:
        fn = getattr(getattr(engine, name), "df", None)
    except ImportError:
        return []
    try:
        return fn() if fn else []
    except Exception:  # noqa: BLE001 - df must not fail because one service cannot count
        return []


def system_df(req, engine):
    out = engine.images.df()
    out["Containers"] = _service_df(engine, "containers")
    out["Volumes"] = _service_df(engine, "volumes")
    out["BuildCache"] = _service_df(engine, "builds")
    return JSON(out)


ROUTES = [
    ("GET", "/images/json", list_images),
    ("POST", "/images/create", create),
    ("POST", "/images/load", load),
    ("GET", "/images/get", save),
    ("POST", "/images/prune", prune),
    ("GET", "/system/df", system_df),
    ("GET", "/images/{name:.+}/json", inspect),
    ("GET", "/images/{name:.+}/history", history),
    ("GET", "/images/{name:.+}/get", save),
    ("POST", "/images/{name:.+}/tag", tag),
    ("DELETE", "/images/{name:.+}", remove),
]
