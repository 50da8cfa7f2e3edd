"""The verb table: ``dockyard VERB`` → the module that implements it.

Each module has ``HELP``, ``configure(parser)`` and ``run(args, client) -> int``.
Only the module of the verb being run is imported (CLI start-up is latency).
"""
COMMANDS = {
    "pull": "dockyard.cli.commands.pull",
    "push": "dockyard.cli.commands.push",
    "login": "dockyard.cli.commands.login",
    "logout": "dockyard.cli.commands.logout",
    "search": "dockyard.cli.commands.search",
    "build": "dockyard.cli.commands.build",
    "network": "dockyard.cli.commands.network",
    "version": "dockyard.cli.commands.version",
    "info": "dockyard.cli.commands.info",
}
ALIASES: dict[str, str] = {}
