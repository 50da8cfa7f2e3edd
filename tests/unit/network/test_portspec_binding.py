"""Binding behaves as the frozen value type it replaced (equality, hashing, immutability)."""
import pytest

from dockyard.errors import InvalidArgument
from dockyard.network import portspec
from dockyard.network.portspec import Binding


def test_binding_is_an_immutable_value():
    a = Binding("tcp", 80, "0.0.0.0", 8080, 8080)
    b = Binding("tcp", 80, "0.0.0.0", 8080, 8080)
    assert a == b and hash(a) == hash(b) and len({a, b}) == 1
    assert a != Binding("udp", 80, "0.0.0.0", 8080, 8080)
    assert a.key == "80/tcp"
    assert repr(a) == ("Binding(proto='tcp', container_port=80, host_ip='0.0.0.0', "
                       "host_lo=8080, host_hi=8080)")
    with pytest.raises(AttributeError):
        a.host_lo = 1


@pytest.mark.parametrize("ip", ["127.0.0.1", "::1", "[::1]", "10.1.2.3", "fe80::1"])
def test_host_ip_accepts_addresses(ip):
    assert portspec._host_ip(ip) == ip.strip("[]")


@pytest.mark.parametrize("ip", ["1.2.3", "256.1.1.1", "1.2.3.4.5", "abc", "::g", "01.2.3.4"])
def test_host_ip_rejects_garbage(ip):
    with pytest.raises(InvalidArgument, match="invalid host ip"):
        portspec._host_ip(ip)
