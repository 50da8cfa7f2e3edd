import pytest

from dockyard.errors import InvalidArgument
from dockyard.network.portspec import Binding, bindings, parse_port_key, parse_publish


@pytest.mark.parametrize("spec, exposed, bound", [
    ("80", {"80/tcp": {}}, {"80/tcp": [{"HostIp": "", "HostPort": ""}]}),
    ("8080:80", {"80/tcp": {}}, {"80/tcp": [{"HostIp": "", "HostPort": "8080"}]}),
    ("127.0.0.1:8080:80/udp", {"80/udp": {}},
     {"80/udp": [{"HostIp": "127.0.0.1", "HostPort": "8080"}]}),
    ("127.0.0.1::80", {"80/tcp": {}}, {"80/tcp": [{"HostIp": "127.0.0.1", "HostPort": ""}]}),
    ("8000-8001:9000-9001", {"9000/tcp": {}, "9001/tcp": {}},
     {"9000/tcp": [{"HostIp": "", "HostPort": "8000"}],
      "9001/tcp": [{"HostIp": "", "HostPort": "8001"}]}),
    ("8000-8010:80", {"80/tcp": {}}, {"80/tcp": [{"HostIp": "", "HostPort": "8000-8010"}]}),
])
def test_parse_publish(spec, exposed, bound):
    assert parse_publish(spec) == (exposed, bound)


@pytest.mark.parametrize("spec, message", [
    ("70000:80", "within 1-65535"),
    ("80/tpc", "unknown protocol 'tpc'"),
    ("abc:80", "not a port number"),
    ("8000-8002:80-81", "differ in size"),
    ("1.2.3:80:80", "invalid host ip"),
    ("90-80:80", "end is before start"),
])
def test_parse_publish_errors_name_the_problem(spec, message):
    with pytest.raises(InvalidArgument, match=message):
        parse_publish(spec)


def test_port_key():
    assert parse_port_key("53/UDP") == (53, "udp")
    assert parse_port_key("80") == (80, "tcp")
    with pytest.raises(InvalidArgument, match="0"):
        parse_port_key("0/tcp")


def test_bindings_with_publish_all():
    got = bindings({"80/tcp": [{"HostIp": "", "HostPort": "8080"}], "53/udp": None},
                   {"80/tcp": {}, "443/tcp": {}}, publish_all=True)
    assert got == [Binding("tcp", 80, "0.0.0.0", 8080, 8080), Binding("udp", 53, "0.0.0.0", 0, 0),
                   Binding("tcp", 443, "0.0.0.0", 0, 0)]


def test_bindings_range_and_errors():
    assert bindings({"80/tcp": [{"HostPort": "8000-8010"}]}) == [
        Binding("tcp", 80, "0.0.0.0", 8000, 8010)]
    with pytest.raises(InvalidArgument, match="host port for 80/tcp"):
        bindings({"80/tcp": [{"HostPort": "99999"}]})
