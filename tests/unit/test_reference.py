import pytest

from dockyard.errors import InvalidArgument
from dockyard.oci.reference import parse


@pytest.mark.parametrize("ref,full,familiar", [
    ("team-documentation", "docker.io/library/team-documentation:latest", "team-documentation:latest"),
    ("user/app:1.0", "docker.io/user/app:1.0", "user/app:1.0"),
    ("localhost:5000/x:y", "localhost:5000/x:y", "localhost:5000/x:y"),
    ("127.0.0.1:5000/a/b", "127.0.0.1:5000/a/b:latest", "127.0.0.1:5000/a/b:latest"),
    ("docker.io/library/node", "docker.io/library/node:latest", "node:latest"),
])
def test_normalisation(ref, full, familiar):
    r = parse(ref)
    assert str(r) == full and r.familiar == familiar


def test_digest_reference_has_no_default_tag():
    d = "sha256:" + "a" * 64
    r = parse("busybox@" + d)
    assert r.tag is None and r.digest == d


@pytest.mark.parametrize("bad", ["UPPER", "a b", "", "x:", "x@sha256:zz", "-x", "a//b"])
def test_invalid_references_say_so(bad):
    with pytest.raises(InvalidArgument, match="invalid reference format"):
        parse(bad)
