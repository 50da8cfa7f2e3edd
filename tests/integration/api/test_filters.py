"""Every endpoint that takes ``filters`` refuses an unknown key (docker's 400 "invalid filter
'x'") instead of ignoring it; prunes honour until, label and label!."""
from __future__ import annotations

import json
import time

import pytest

from dockyard.errors import InvalidArgument

pytestmark = pytest.mark.root

BAD = json.dumps({"colour": ["red"]})


@pytest.mark.parametrize("method,path", [
    ("GET", "/containers/json"), ("POST", "/containers/prune"), ("GET", "/images/json"),
    ("POST", "/images/prune"), ("GET", "/networks"), ("POST", "/networks/prune"),
    ("GET", "/volumes"), ("POST", "/volumes/prune"), ("POST", "/build/prune"),
    ("GET", "/events?since=1&until=2")])
def test_unknown_filter_is_refused(daemon, method, path):
    with pytest.raises(InvalidArgument, match="invalid filter 'colour'"):
        if method == "GET":
            daemon.client.get(path.split("?")[0], {"filters": BAD, **(
                {"since": 1, "until": 2} if "events" in path else {})})
        else:
            daemon.client.post(path, {"filters": BAD})


def test_an_image_prune_with_a_typo_deletes_nothing(daemon):
    image_id = daemon.cli("build", "-q", "-", input="FROM busybox\nLABEL kind=scratch\n",
                          check=True).stdout.strip()
    assert image_id.startswith("sha256:")  # untagged: dangling
    try:
        bad = daemon.cli("image", "prune", "-f", "--filter", "lable=x")
        assert bad.returncode == 1 and "invalid filter 'lable'" in bad.stderr
        for kept_by in ("label!=kind", "until=1h"):  # label! excludes it; it is too new
            daemon.cli("image", "prune", "-f", "--filter", kept_by, check=True)
            assert daemon.client.get(f"/images/{image_id}/json")["Id"] == image_id
        out = daemon.client.post("/images/prune", {"filters": json.dumps(
            {"label": ["kind=scratch"]})})
        assert {"Deleted": image_id} in out["ImagesDeleted"]
    finally:
        daemon.cli("rmi", image_id)


def test_container_prune_until_and_labels(daemon, ctr):
    old, new = ctr.name("old"), ctr.name("new")
    old_id = daemon.cli("create", "--name", old, "-l", "tier=x", "busybox", "true",
                        check=True).stdout.strip()
    time.sleep(1.1)
    cut = str(time.time())
    daemon.cli("create", "--name", new, "-l", "tier=x", "busybox", "true", check=True)
    out = daemon.client.post("/containers/prune", {"filters": json.dumps(
        {"until": [cut], "label!": ["other"], "label": ["tier=x"]})})
    assert out["ContainersDeleted"] == [old_id]
    out = daemon.client.post("/containers/prune", {"filters": json.dumps({"label!": ["tier"]})})
    assert not out["ContainersDeleted"] or \
        daemon.client.get(f"/containers/{new}/json")["Name"] == "/" + new


def test_build_cache_prune_until(daemon):
    image = daemon.cli("build", "-q", "-", input="FROM busybox\nENV PRUNE_UNTIL=1\n",
                       check=True).stdout.strip()
    try:
        assert daemon.client.post("/build/prune", {"filters": json.dumps(
            {"until": ["1h"]})})["CachesDeleted"] == []  # everything is newer
    finally:
        daemon.cli("rmi", image, check=True)
    with pytest.raises(InvalidArgument, match="filter 'inuse' is not supported"):
        daemon.client.post("/build/prune", {"filters": json.dumps({"inuse": ["true"]})})
