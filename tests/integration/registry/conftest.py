"""Fixtures: test registries (plain, TLS + htpasswd, bearer token) and hand-made images."""
from __future__ import annotations

import types

import pytest

from dockyard.store.content import ContentStore
from dockyard.store.metadata import Metadata
from tests.integration.registry.regserver import Registry, TokenServer, make_ca


@pytest.fixture
def registry(tmp_path):
    r = Registry(str(tmp_path / "registry"))
    try:
        yield r
    finally:
        r.stop()


@pytest.fixture
def tls_registry(tmp_path):
    """TLS with a test CA and htpasswd basic auth (user ``alice``, password ``s3cret``)."""
    ca, crt, key = make_ca(str(tmp_path))
    r = Registry(str(tmp_path / "registry"), tls=(crt, key), htpasswd=("alice", "s3cret"))
    r.ca = ca
    try:
        yield r
    finally:
        r.stop()


@pytest.fixture
def token_registry(tmp_path):
    ts = TokenServer(str(tmp_path / "token"), {"bob": "hunter2"})
    r = Registry(str(tmp_path / "registry"), token=ts)
    r.token_server = ts
    try:
        yield r
    finally:
        r.stop()
        ts.stop()


@pytest.fixture
def store_engine(tmp_path):
    """The content store and metadata DB alone, for client-level tests."""
    meta = Metadata(str(tmp_path / "meta.db"))
    eng = types.SimpleNamespace(content=ContentStore(str(tmp_path / "content")), meta=meta)
    yield eng
    meta.close()
