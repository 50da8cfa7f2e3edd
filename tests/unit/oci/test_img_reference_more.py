"""More reference normalisation cases (docker's familiar names)."""
from __future__ import annotations

import pytest

from dockyard.errors import InvalidArgument
from dockyard.oci.reference import parse, parse_repo_tag


@pytest.mark.parametrize("ref,full,familiar_name", [
    ("busybox", "docker.io/library/busybox:latest", "busybox"),
    ("library/busybox:1", "docker.io/library/busybox:1", "busybox"),
    ("index.docker.io/x/y", "index.docker.io/x/y:latest", "index.docker.io/x/y"),
    ("localhost/x", "localhost/x:latest", "localhost/x"),
    ("[::1]:5000/x:t", "[::1]:5000/x:t", "[::1]:5000/x"),
    ("a.b/c/d/e:tag-1.0_x", "a.b/c/d/e:tag-1.0_x", "a.b/c/d/e"),
])
def test_more_normalisation(ref, full, familiar_name):
    r = parse(ref)
    assert str(r) == full and r.familiar_name == familiar_name


def test_digest_and_tag_together():
    d = "sha256:" + "c" * 64
    r = parse(f"x:1@{d}")
    assert r.tag == "1" and r.digest == d and r.familiar == f"x:1@{d}"


def test_repo_tag_query_parameters():
    assert str(parse_repo_tag("localhost:5000/img", "1")) == "localhost:5000/img:1"
    assert str(parse_repo_tag("img", None)) == "docker.io/library/img:latest"


@pytest.mark.parametrize("bad,what", [("Busybox", "lowercase"), ("x:" + "t" * 200, "bad tag"),
                                      ("x/:y", "invalid reference"), ("x y", "invalid reference")])
def test_bad_names(bad, what):
    with pytest.raises(InvalidArgument, match=what):
        parse(bad)
