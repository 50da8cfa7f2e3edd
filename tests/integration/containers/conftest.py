"""Fixtures for container tests: a helper that removes what each test created."""
from __future__ import annotations

import pytest


@pytest.fixture
def ctr(daemon):
    """Create containers through ``ctr.cli(...)``; all of them are removed afterwards."""
    class Tracker:
        def __init__(self):
            self.names: list[str] = []

        def name(self, base: str) -> str:
            import secrets
            n = f"{base}-{secrets.token_hex(3)}"
            self.names.append(n)
            return n

    t = Tracker()
    yield t
    for n in t.names:
        daemon.cli("rm", "-f", "-v", n)
