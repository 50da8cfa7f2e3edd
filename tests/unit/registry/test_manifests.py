"""Platform choice and manifest checks."""
import pytest

from dockyard.errors import InvalidArgument, NotFound
from dockyard.oci import image as oi
from dockyard.registry import manifests
from dockyard.registry.client import error_message, is_insecure


def _index(*plats):
    return {"manifests": [{"mediaType": oi.OCI_MANIFEST, "digest": f"sha256:{i}",
                           "platform": p} for i, p in enumerate(plats)]}


def test_parse_platform():
    assert manifests.parse_platform("linux/arm64/v8") == {"os": "linux", "architecture": "arm64",
                                                          "variant": "v8"}
    assert manifests.parse_platform("linux/x86_64") == {"os": "linux", "architecture": "amd64"}
    assert manifests.parse_platform("") is None
    with pytest.raises(InvalidArgument, match="invalid platform"):
        manifests.parse_platform("linux")


def test_select_by_platform_and_variant():
    idx = _index({"os": "linux", "architecture": "amd64"},
                 {"os": "linux", "architecture": "arm", "variant": "v7"},
                 {"os": "linux", "architecture": "arm64", "variant": "v8"})
    assert manifests.select(idx, {"os": "linux", "architecture": "amd64"}, "x")["digest"] == "sha256:0"
    want = manifests.parse_platform("linux/arm/v7")
    assert manifests.select(idx, want, "x")["digest"] == "sha256:1"
    assert manifests.select(idx, manifests.parse_platform("linux/arm64"), "x")["digest"] == "sha256:2"
    with pytest.raises(NotFound, match="linux/arm/v6 .*has: linux/amd64, linux/arm/v7"):
        manifests.select(idx, manifests.parse_platform("linux/arm/v6"), "x")


def test_validate_rejects_foreign_and_unknown_layers():
    doc = {"config": {"digest": "sha256:1", "size": 1},
           "layers": [{"mediaType": oi.DOCKER_FOREIGN_GZIP, "digest": "sha256:2", "size": 1}]}
    with pytest.raises(InvalidArgument, match="foreign layers"):
        manifests.validate(doc, "x")
    doc["layers"][0]["mediaType"] = "text/plain"
    with pytest.raises(InvalidArgument, match="unsupported layer media type 'text/plain'"):
        manifests.validate(doc, "x")
    doc["layers"][0]["mediaType"] = oi.OCI_LAYER_ZSTD
    manifests.validate(doc, "x")


def test_insecure_hosts_and_error_messages():
    assert is_insecure("127.0.0.1:5000") and is_insecure("localhost:5000")
    assert not is_insecure("registry.example:5000")
    assert is_insecure("10.1.2.3:5000", ("10.0.0.0/8",))
    assert is_insecure("reg.lan:5000", ("reg.lan:5000",))
    body = b'{"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown"}]}'
    assert error_message(body) == "manifest unknown: manifest unknown"
