"""docker ps filters over container records (moby's daemon/list.go rules)."""
import pytest

from dockyard.engine.container_view import check_filters, matches
from dockyard.errors import InvalidArgument, NotFound


def rec(cid, name, created, status="running", ports=None, exposed=None, health=None,
        labels=None):
    return {"Id": cid * 64, "Name": "/" + name, "Created": created, "Image": "sha256:i",
            "State": {"Status": status, "ExitCode": 0, "Running": status == "running",
                      **({"Health": {"Status": health}} if health else {})},
            "Config": {"Image": "bb", "Labels": labels or {}, "ExposedPorts": exposed or {}},
            "HostConfig": {"PortBindings": ports or {}}, "Mounts": [],
            "NetworkSettings": {"Networks": {"bridge": {}}}}


A = rec("a", "first", "2026-12-04T10:00:00Z", ports={"80/tcp": [{}]}, exposed={"80/tcp": {}})
B = rec("b", "second", "2026-12-04T10:00:00.5Z", exposed={"53/udp": {}}, health="healthy")
C = rec("c", "third", "2026-12-04T10:00:01.25Z", status="exited")
ALL = {r["Name"][1:]: r for r in (A, B, C)}


def names(filters):
    check_filters(filters)
    return [r["Name"][1:] for r in (A, B, C) if matches(r, filters, None, ALL.get)]


def test_before_and_since_compare_creation_times():
    assert names({"before": ["second"]}) == ["first"]
    assert names({"since": ["first"]}) == ["second", "third"]
    assert names({"since": ["first"], "before": ["third"]}) == ["second"]
    with pytest.raises(NotFound, match="No such container: nope"):
        names({"before": ["nope"]})


def test_publish_and_expose_take_ports_and_ranges():
    assert names({"publish": ["80"]}) == ["first"]
    assert names({"publish": ["70-90/tcp"]}) == ["first"]
    assert names({"publish": ["80/udp"]}) == []
    assert names({"expose": ["53/udp"]}) == ["second"]
    assert names({"expose": ["80", "53/udp"]}) == ["first", "second"]


def test_health_status_and_task_filters():
    assert names({"health": ["healthy"]}) == ["second"]
    assert names({"health": ["none"]}) == ["first", "third"]
    assert names({"status": ["exited"]}) == ["third"]
    assert names({"is-task": ["true"]}) == []
    assert names({"is-task": ["false"]}) == ["first", "second", "third"]


def test_bad_filters_are_refused_not_ignored():
    for filters, message in (({"colour": ["red"]}, "invalid filter 'colour'"),
                             ({"status": ["sleeping"]}, "invalid filter 'status=sleeping'"),
                             ({"health": ["meh"]}, "Unrecognised filter value for health"),
                             ({"publish": ["http"]}, "not a port or range"),
                             ({"expose": ["70000"]}, "not a port or range")):
        with pytest.raises(InvalidArgument, match=message):
            check_filters(filters)
