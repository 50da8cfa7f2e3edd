"""dockyard system: df (disk usage) and prune (remove unused data)."""
from __future__ import annotations

HELP = "Manage dockyard (disk usage, prune, check)"


def configure(p) -> None:
    sub = p.add_subparsers(dest="action", metavar="COMMAND", required=True)
    df = sub.add_parser("df", help="Show docker disk usage")
    df.add_argument("-v", "--verbose", action="store_true", help="Show detailed information on space usage")
    df.add_argument("--format", help="Format output using a custom template")
    pr = sub.add_parser("prune", help="Remove unused data")
    pr.add_argument("-a", "--all", action="store_true", help="Remove all unused images not just dangling ones")
    pr.add_argument("-f", "--force", action="store_true", help="Do not prompt for confirmation")
    pr.add_argument("--volumes", action="store_true", help="Prune anonymous volumes")
    pr.add_argument("--filter", action="append", default=[], help="Provide filter values")
    ck = sub.add_parser("check", help="Verify every blob's digest and every image, tag and "
                        "container reference in the store")
    ck.add_argument("--format", help="Format output using a custom template")


def run(args, client) -> int:
    return {"df": _df, "prune": _prune, "check": _check}[args.action](args, client)


def _check(args, client) -> int:
    """Exit 1 when anything is wrong, listing each problem on its own line."""
    from dockyard.cli.output import format_template
    rep = client.post("/system/check")
    if args.format:
        print(format_template(args.format, rep))
    else:
        print(f"checked {rep['Blobs']} blobs, {rep['Images']} images, {rep['Layers']} layers, "
              f"{rep['Tags']} tags, {rep['Containers']} containers: "
              f"{len(rep['Problems'])} problems")
        for p in rep["Problems"]:
            print(f"  {p}")
    return 0 if rep["OK"] else 1


def _pct(part: int, total: int) -> str:
    return f" ({int(part * 100 / total)}%)" if total else ""


def summary_rows(df: dict) -> list[dict]:
    """docker's four rows: TYPE TOTAL ACTIVE SIZE RECLAIMABLE."""
    from dockyard.cli.output import human_size
    images = df.get("Images") or []
    active_images = [i for i in images if (i.get("Containers") or 0) > 0]
    layers = int(df.get("LayersSize") or 0)
    used = sum(i["Size"] - max(i.get("SharedSize") or 0, 0) for i in active_images)
    shared = max((i.get("SharedSize") or 0 for i in active_images), default=0)
    img_reclaim = max(layers - used - shared, 0)
    conts = df.get("Containers") or []
    c_size = sum(int(c.get("SizeRw") or 0) for c in conts)
    c_reclaim = sum(int(c.get("SizeRw") or 0) for c in conts if c.get("State") != "running")
    vols = df.get("Volumes") or []
    usage = [(v.get("UsageData") or {}) for v in vols]
    v_size = sum(max(int(u.get("Size") or 0), 0) for u in usage)
    v_reclaim = sum(max(int(u.get("Size") or 0), 0) for u in usage if not u.get("RefCount"))
    cache = df.get("BuildCache") or []
    b_size = sum(int(b.get("Size") or 0) for b in cache)
    b_reclaim = sum(int(b.get("Size") or 0) for b in cache if not b.get("InUse"))

    def row(kind, total, active, size, reclaim):
        return {"Type": kind, "TotalCount": str(total), "Active": str(active),
                "Size": human_size(size), "Reclaimable": human_size(reclaim) + _pct(reclaim, size)}
    return [row("Images", len(images), len(active_images), layers, img_reclaim),
            row("Containers", len(conts), sum(c.get("State") == "running" for c in conts), c_size, c_reclaim),
            row("Local Volumes", len(vols), sum(bool(u.get("RefCount")) for u in usage), v_size, v_reclaim),
            row("Build Cache", len(cache), sum(bool(b.get("InUse")) for b in cache), b_size, b_reclaim)]


def _df(args, client) -> int:
    from dockyard.cli.output import format_rows, human_size, short_id, since, table
    df = client.get("/system/df") or {}
    rows = summary_rows(df)
    if args.format:
        print(format_rows(args.format, rows, {"TotalCount": "TOTAL"}))
        return 0
    print(table([[r["Type"], r["TotalCount"], r["Active"], r["Size"], r["Reclaimable"]] for r in rows],
                ["TYPE", "TOTAL", "ACTIVE", "SIZE", "RECLAIMABLE"]))
    if args.verbose:
        from dockyard.cli.commands.images import rows_of
        print("\nImages space usage:\n")
        img_rows = []
        for img in df.get("Images") or []:
            for r in rows_of(img, False):
                img_rows.append([r["Repository"], r["Tag"], short_id(img["Id"]), since(img["Created"]),
                                 human_size(img["Size"]), human_size(max(img.get("SharedSize") or 0, 0)),
                                 human_size(img["Size"] - max(img.get("SharedSize") or 0, 0)),
                                 str(img.get("Containers", 0))])
        print(table(img_rows, ["REPOSITORY", "TAG", "IMAGE ID", "CREATED", "SIZE", "SHARED SIZE",
                               "UNIQUE SIZE", "CONTAINERS"]))
    return 0


def _try_prune(client, path: str, params=None) -> dict:
    """Prune one kind of object; a daemon without that endpoint prunes nothing."""
    from dockyard import errors
    try:
        return client.post(path, params) or {}
    except (errors.NotFound, errors.NotImplementedYet):
        return {}


def _prune(args, client) -> int:
    from dockyard.cli.commands.image import confirm, prune_images
    from dockyard.cli.commands.images import filters_param
    from dockyard.cli.output import human_size
    items = ["all stopped containers", "all networks not used by at least one container"]
    if args.volumes:
        items.append("all anonymous volumes not used by at least one container")
    items += ["all images without at least one container associated to them" if args.all
              else "all dangling images", "unused build cache" if args.all else "all dangling build cache"]
    warning = "WARNING! This will remove:\n" + "\n".join(f"  - {i}" for i in items)
    if not args.force and not confirm(warning):
        return 0
    params = filters_param(args.filter)
    reclaimed = 0
    conts = _try_prune(client, "/containers/prune", params)
    if conts.get("ContainersDeleted"):
        print("Deleted Containers:\n" + "\n".join(conts["ContainersDeleted"]) + "\n")
    reclaimed += int(conts.get("SpaceReclaimed") or 0)
    nets = _try_prune(client, "/networks/prune", params)
    if nets.get("NetworksDeleted"):
        print("Deleted Networks:\n" + "\n".join(nets["NetworksDeleted"]) + "\n")
    if args.volumes:
        vols = _try_prune(client, "/volumes/prune", params)
        if vols.get("VolumesDeleted"):
            print("Deleted Volumes:\n" + "\n".join(vols["VolumesDeleted"]) + "\n")
        reclaimed += int(vols.get("SpaceReclaimed") or 0)
    lines, freed = prune_images(client, args.all, args.filter)
    if lines:
        print("Deleted Images:\n" + "\n".join(lines) + "\n")
    reclaimed += freed
    cache = _try_prune(client, "/build/prune", dict(params or {}, **({"all": 1} if args.all else {})))
    if cache.get("CachesDeleted"):
        print("Deleted build cache objects:\n" + "\n".join(cache["CachesDeleted"]) + "\n")
    reclaimed += int(cache.get("SpaceReclaimed") or 0)
    print(f"Total reclaimed space: {human_size(reclaimed)}")
    return 0
