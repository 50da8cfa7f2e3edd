"""dockyard login: check credentials with a registry and keep them in docker's config.json."""
from __future__ import annotations

import sys

HELP = "Log in to a registry"


def configure(p) -> None:
    p.add_argument("server", nargs="?", default=None, metavar="SERVER")
    p.add_argument("-u", "--username", default=None, help="Username")
    p.add_argument("-p", "--password", default=None, help="Password")
    p.add_argument("--password-stdin", action="store_true", help="Take the password from stdin")


def _credentials(args) -> tuple[str, str]:
    import getpass

    from dockyard.cli.main import CommandError
    if args.password and args.password_stdin:
        raise CommandError("--password and --password-stdin are mutually exclusive", 1)
    password = args.password
    if args.password_stdin:
        if not args.username:
            raise CommandError("Must provide --username with --password-stdin", 1)
        password = sys.stdin.read().rstrip("\r\n")
    elif password:
        print("WARNING! Using --password via the CLI is insecure. Use --password-stdin.",
              file=sys.stderr)
    username = args.username
    if not username:
        if not sys.stdin.isatty():
            raise CommandError("Error: cannot perform an interactive login from a non TTY "
                               "device", 1)
        username = input("Username: ").strip()
    if not password:
        password = getpass.getpass("Password: ")
    if not username or not password:
        raise CommandError("Error: username and password are required", 1)
    return username, password


def run(args, client) -> int:
    from dockyard.registry import config
    username, password = _credentials(args)
    server = config.normalize_server(args.server)
    out = client.post("/auth", json={"username": username, "password": password,
                                     "serveraddress": server})
    config.store_credentials(server, username, password)
    print(out.get("Status") or "Login Succeeded")
    return 0
