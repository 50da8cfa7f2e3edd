"""The verb table: ``dockyard VERB`` → the module that implements it.

Each module has ``HELP``, ``configure(parser)`` and ``run(args, client) -> int``.
Only the module of the verb being run is imported (CLI start-up is latency).
"""
COMMANDS = {
    "run": "dockyard.cli.commands.run",
    "create": "dockyard.cli.commands.create",
    "start": "dockyard.cli.commands.start",
    "stop": "dockyard.cli.commands.stop",
    "kill": "dockyard.cli.commands.kill",
    "restart": "dockyard.cli.commands.restart",
    "rm": "dockyard.cli.commands.rm",
    "ps": "dockyard.cli.commands.ps",
    "logs": "dockyard.cli.commands.logs",
    "exec": "dockyard.cli.commands.exec_",
    "wait": "dockyard.cli.commands.wait",
    "attach": "dockyard.cli.commands.attach",
    "top": "dockyard.cli.commands.top",
    "stats": "dockyard.cli.commands.stats",
    "cp": "dockyard.cli.commands.cp",
    "commit": "dockyard.cli.commands.commit",
    "export": "dockyard.cli.commands.export",
    "diff": "dockyard.cli.commands.diff",
    "rename": "dockyard.cli.commands.rename",
    "pause": "dockyard.cli.commands.pause",
    "unpause": "dockyard.cli.commands.unpause",
    "port": "dockyard.cli.commands.port",
    "container": "dockyard.cli.commands.container",
    "volume": "dockyard.cli.commands.volume",
    "events": "dockyard.cli.commands.events",
    "inspect": "dockyard.cli.commands.inspect",
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
