"""OCI image helpers: chain IDs, timestamps, config validation, media types."""
from __future__ import annotations

import hashlib

import pytest

from dockyard.errors import InvalidArgument
from dockyard.oci import digest as dg
from dockyard.oci import image as oci


def test_chain_ids_follow_the_spec():
    a, b = "sha256:" + "a" * 64, "sha256:" + "b" * 64
    expected = "sha256:" + hashlib.sha256(f"{a} {b}".encode()).hexdigest()
    assert oci.chain_ids([a, b]) == [a, expected]
    assert oci.chain_ids([]) == []


@pytest.mark.parametrize("ts,secs", [
    ("2024-01-02T03:04:05Z", 1704164645.0), ("2024-01-02T03:04:05.5Z", 1704164645.5),
    ("2024-01-02T05:04:05+02:00", 1704164645.0), ("garbage", 0.0), (None, 0.0),
])
def test_rfc3339(ts, secs):
    assert oci.parse_rfc3339(ts) == pytest.approx(secs)


def test_now_round_trips():
    assert oci.parse_rfc3339(oci.now_rfc3339(1700000000.25)) == pytest.approx(1700000000.25)


@pytest.mark.parametrize("cfg", [{}, {"rootfs": {"type": "x"}}, {"rootfs": {"type": "layers", "diff_ids": "x"}}])
def test_bad_config_rootfs(cfg):
    with pytest.raises(InvalidArgument, match="my.json"):
        oci.diff_ids(cfg, "my.json")


def test_layer_media_types():
    assert oci.compression_of(oci.layer_media_type("gzip", docker=True)) == "gzip"
    assert oci.compression_of(oci.OCI_LAYER_ZSTD) == "zstd"
    assert oci.compression_of(oci.OCI_LAYER) == "none"


def test_digest_helpers():
    d = dg.of_bytes(b"x")
    assert dg.validate(d) == d and dg.short_id(d) == d[7:19]
    with pytest.raises(InvalidArgument):
        dg.validate("sha256:xyz")


def test_parse_json_errors_name_the_document():
    with pytest.raises(InvalidArgument, match="manifest.json: not valid JSON"):
        oci.parse_json(b"{", "manifest.json")
