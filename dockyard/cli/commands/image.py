"""dockyard image: ls, inspect, rm, tag, history, prune, import, load, save."""
from __future__ import annotations

import importlib

HELP = "Manage images"
# sub-verb → (module implementing it, aliases); the verb modules are shared with
# the top-level ``images``/``rmi``/``tag``/... commands.
SUBS = {
    "ls": ("dockyard.cli.commands.images", ["list"]),
    "inspect": ("dockyard.cli.commands.image", []),
    "rm": ("dockyard.cli.commands.rmi", ["remove"]),
    "tag": ("dockyard.cli.commands.tag", []),
    "history": ("dockyard.cli.commands.history", []),
    "prune": ("dockyard.cli.commands.image", []),
    "import": ("dockyard.cli.commands.import_", []),
    "load": ("dockyard.cli.commands.load", []),
    "save": ("dockyard.cli.commands.save", []),
}
ALIASES = {alias: sub for sub, (_, aliases) in SUBS.items() for alias in aliases}


def configure(p) -> None:
    sub = p.add_subparsers(dest="action", metavar="COMMAND", required=True)
    for name, (module, aliases) in SUBS.items():
        if name == "inspect":
            _configure_inspect(sub.add_parser(name, help="Display detailed information on one or more images"))
        elif name == "prune":
            _configure_prune(sub.add_parser(name, help="Remove unused images"))
        else:
            mod = importlib.import_module(module)
            mod.configure(sub.add_parser(name, aliases=aliases, help=mod.HELP))


def run(args, client) -> int:
    action = ALIASES.get(args.action, args.action)
    if action == "inspect":
        return _inspect(args, client)
    if action == "prune":
        return _prune(args, client)
    return importlib.import_module(SUBS[action][0]).run(args, client)


def _configure_inspect(p) -> None:
    p.add_argument("-f", "--format", help="Format output using a custom template")
    p.add_argument("images", nargs="+", metavar="IMAGE")


def _inspect(args, client) -> int:
    import sys
    from dockyard import errors
    from dockyard.cli.output import format_template, print_json
    found, status = [], 0
    for name in args.images:
        try:
            found.append(client.get(f"/images/{name}/json"))
        except errors.NotFound as e:
            print(f"Error response from daemon: {e}", file=sys.stderr)
            status = 1
    if args.format:
        for img in found:
            print(format_template(args.format, img))
    else:
        print_json(found)
    return status


def _configure_prune(p) -> None:
    p.add_argument("-a", "--all", action="store_true", help="Remove all unused images, not just dangling ones")
    p.add_argument("-f", "--force", action="store_true", help="Do not prompt for confirmation")
    p.add_argument("--filter", action="append", default=[], help="Provide filter values (e.g. 'label=<key>=<value>')")


def confirm(message: str) -> bool:
    """docker's ``Are you sure you want to continue? [y/N]`` prompt."""
    import sys
    print(f"{message}\nAre you sure you want to continue? [y/N] ", end="", flush=True)
    answer = sys.stdin.readline().strip().lower()
    return answer in ("y", "yes")


def prune_images(client, all_images: bool, filter_items: list[str]) -> tuple[list[str], int]:
    """Ask the daemon to prune; return (output lines, bytes reclaimed)."""
    from dockyard.cli.commands.images import filters_param
    extra = {"dangling": ["false"]} if all_images else None
    res = client.post("/images/prune", filters_param(filter_items, extra)) or {}
    lines = []
    for rec in res.get("ImagesDeleted") or []:
        for key in ("Untagged", "Deleted"):
            if key in rec:
                lines.append(f"{key.lower()}: {rec[key]}")
    return lines, int(res.get("SpaceReclaimed") or 0)


def _prune(args, client) -> int:
    from dockyard.cli.output import human_size
    warning = ("WARNING! This will remove all images without at least one container associated to them."
               if args.all else "WARNING! This will remove all dangling images.")
    if not args.force and not confirm(warning):
        return 0
    lines, reclaimed = prune_images(client, args.all, args.filter)
    if lines:
        print("Deleted Images:\n" + "\n".join(lines) + "\n")
    print(f"Total reclaimed space: {human_size(reclaimed)}")
    return 0
