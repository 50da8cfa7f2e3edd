"""dockyard: a Docker-compatible container engine.

The package is importable in-process: ``dockyard.engine.Engine(root=...)``.
This module stays empty on purpose so the CLI's import path is lean.
"""
__version__ = "0.1.0"
