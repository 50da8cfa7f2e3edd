"""dockyard's benchmark suite: dockyard against dockerd and podman, side by side.

Run it with ``.venv/bin/python -m bench`` (see BENCHMARKS.md). Not part of the test suite.
"""
