"""dockyard network: create, ls, inspect, rm, prune, connect, disconnect."""
from __future__ import annotations

import sys

HELP = "Manage networks"


def _pairs(items: list[str], what: str) -> dict:
    out = {}
    for item in items or []:
        key, _, value = item.partition("=")
        if not key:
            raise SystemExit(f"invalid {what} {item!r}: expected key=value")
        out[key] = value
    return out


def _filters(items: list[str]) -> dict:
    out: dict[str, list[str]] = {}
    for item in items or []:
        key, sep, value = item.partition("=")
        if not sep:
            raise SystemExit(f"invalid filter {item!r}: expected key=value")
        out.setdefault(key, []).append(value)
    return out


def configure(p) -> None:
    sub = p.add_subparsers(dest="action", metavar="COMMAND", required=True)
    c = sub.add_parser("create", help="Create a network")
    c.add_argument("-d", "--driver", default="bridge")
    c.add_argument("--subnet", action="append", default=[])
    c.add_argument("--gateway", action="append", default=[])
    c.add_argument("--ip-range", action="append", default=[])
    c.add_argument("--aux-address", action="append", default=[])
    c.add_argument("--internal", action="store_true")
    c.add_argument("--attachable", action="store_true")
    c.add_argument("--ipv6", action="store_true")
    c.add_argument("--label", action="append", default=[])
    c.add_argument("-o", "--opt", action="append", default=[])
    c.add_argument("name")
    ls = sub.add_parser("ls", aliases=["list"], help="List networks")
    ls.add_argument("-q", "--quiet", action="store_true")
    ls.add_argument("-f", "--filter", action="append", default=[])
    ls.add_argument("--format")
    ls.add_argument("--no-trunc", action="store_true")
    i = sub.add_parser("inspect", help="Display detailed information on one or more networks")
    i.add_argument("-f", "--format")
    i.add_argument("-v", "--verbose", action="store_true")
    i.add_argument("networks", nargs="+")
    r = sub.add_parser("rm", aliases=["remove"], help="Remove one or more networks")
    r.add_argument("-f", "--force", action="store_true")
    r.add_argument("networks", nargs="+")
    pr = sub.add_parser("prune", help="Remove all unused networks")
    pr.add_argument("-f", "--force", action="store_true")
    pr.add_argument("--filter", action="append", default=[])
    cn = sub.add_parser("connect", help="Connect a container to a network")
    cn.add_argument("--alias", action="append", default=[])
    cn.add_argument("--ip")
    cn.add_argument("network")
    cn.add_argument("container")
    dc = sub.add_parser("disconnect", help="Disconnect a container from a network")
    dc.add_argument("-f", "--force", action="store_true")
    dc.add_argument("network")
    dc.add_argument("container")


def run(args, client) -> int:
    action = {"list": "ls", "remove": "rm"}.get(args.action, args.action)
    return ACTIONS[action](args, client)


def _create(args, client) -> int:
    ipam = []
    for i, subnet in enumerate(args.subnet):
        ipam.append({"Subnet": subnet, **({"Gateway": args.gateway[i]} if i < len(args.gateway) else {}),
                     **({"IPRange": args.ip_range[i]} if i < len(args.ip_range) else {})})
    if args.gateway and not args.subnet:
        ipam.append({"Gateway": args.gateway[0]})
    if args.aux_address:
        if not ipam:
            ipam.append({})
        ipam[0]["AuxiliaryAddresses"] = _pairs(args.aux_address, "aux-address")
    body = {"Name": args.name, "Driver": args.driver, "Internal": args.internal,
            "Attachable": args.attachable, "EnableIPv6": args.ipv6,
            "IPAM": {"Driver": "default", "Config": ipam, "Options": {}},
            "Labels": _pairs(args.label, "label"), "Options": _pairs(args.opt, "option")}
    print(client.post("/networks/create", json=body)["Id"])
    return 0


def _ls(args, client) -> int:
    from dockyard.cli.output import format_rows, short_id, table
    nets = client.get("/networks", {"filters": _json(_filters(args.filter))} if args.filter else None)
    nets.sort(key=lambda n: n["Name"])
    if args.quiet:
        print("\n".join(n["Id"] if args.no_trunc else short_id(n["Id"]) for n in nets))
    elif args.format:
        print(format_rows(args.format, [_row(n, args.no_trunc) for n in nets],
                          {"ID": "NETWORK ID"}))
    else:
        rows = [(n["Id"] if args.no_trunc else short_id(n["Id"]), n["Name"], n["Driver"], n["Scope"])
                for n in nets]
        print(table(rows, ["NETWORK ID", "NAME", "DRIVER", "SCOPE"]))
    return 0


def _row(net: dict, no_trunc: bool) -> dict:
    labels = ",".join(f"{k}={v}" for k, v in (net.get("Labels") or {}).items())
    return dict(net, ID=net["Id"] if no_trunc else net["Id"][:12], Labels=labels,
                IPv6=str(net.get("EnableIPv6", False)).lower(),
                Internal=str(net.get("Internal", False)).lower(), CreatedAt=net.get("Created"))


def _json(obj) -> str:
    from dockyard import jsonlite
    return jsonlite.dumps(obj)


def _inspect(args, client) -> int:
    from dockyard import errors
    from dockyard.cli.output import format_template, print_json
    found, status = [], 0
    for ref in args.networks:
        try:
            found.append(client.get(f"/networks/{ref}"))
        except errors.NotFound as e:
            print(f"Error response from daemon: {e}", file=sys.stderr)
            status = 1
    if args.format:
        for net in found:
            print(format_template(args.format, net))
    else:
        print_json(found)
    return status


def _rm(args, client) -> int:
    from dockyard import errors
    status = 0
    for ref in args.networks:
        try:
            client.delete(f"/networks/{ref}")
            print(ref)
        except errors.NotFound as e:
            if not args.force:
                print(f"Error response from daemon: {e}", file=sys.stderr)
                status = 1
        except errors.DockyardError as e:
            print(f"Error response from daemon: {e}", file=sys.stderr)
            status = 1
    return status


def _prune(args, client) -> int:
    if not args.force:
        sys.stdout.write("WARNING! This will remove all custom networks not used by at least one "
                         "container.\nAre you sure you want to continue? [y/N] ")
        sys.stdout.flush()
        if sys.stdin.readline().strip().lower() not in ("y", "yes"):
            return 0
    params = {"filters": _json(_filters(args.filter))} if args.filter else None
    deleted = client.post("/networks/prune", params).get("NetworksDeleted") or []
    if deleted:
        print("Deleted Networks:\n" + "\n".join(deleted))
    return 0


def _connect(args, client) -> int:
    cfg = {"Aliases": args.alias}
    if args.ip:
        cfg["IPAMConfig"] = {"IPv4Address": args.ip}
    client.post(f"/networks/{args.network}/connect",
                json={"Container": args.container, "EndpointConfig": cfg})
    return 0


def _disconnect(args, client) -> int:
    client.post(f"/networks/{args.network}/disconnect",
                json={"Container": args.container, "Force": args.force})
    return 0


ACTIONS = {"create": _create, "ls": _ls, "inspect": _inspect, "rm": _rm, "prune": _prune,
           "connect": _connect, "disconnect": _disconnect}
