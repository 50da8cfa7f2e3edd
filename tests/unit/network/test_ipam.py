import ipaddress

import pytest

from dockyard.errors import Conflict, InvalidArgument, Unavailable
from dockyard.network import ipam

N = ipaddress.ip_network
A = ipaddress.ip_address


def test_parse_subnet_rejects_host_bits_and_ipv6():
    assert ipam.parse_subnet("10.1.0.0/24") == N("10.1.0.0/24")
    with pytest.raises(InvalidArgument, match="subnet"):
        ipam.parse_subnet("10.1.0.1/24")
    with pytest.raises(InvalidArgument, match="IPv4"):
        ipam.parse_subnet("fd00::/64")
    with pytest.raises(InvalidArgument, match="subnet 'nonsense'"):
        ipam.parse_subnet("nonsense")


def test_gateway_defaults_to_first_host_and_must_be_inside():
    net = N("10.1.0.0/24")
    assert ipam.gateway_for(net) == A("10.1.0.1")
    assert ipam.gateway_for(net, "10.1.0.254") == A("10.1.0.254")
    with pytest.raises(InvalidArgument, match="gateway 10.2.0.1"):
        ipam.gateway_for(net, "10.2.0.1")
    with pytest.raises(InvalidArgument, match="gateway"):
        ipam.gateway_for(net, "10.1.0.255")


def test_overlap_names_the_other_network():
    with pytest.raises(Conflict, match="overlaps with subnet 10.1.0.0/16 of other"):
        ipam.check_overlap(N("10.1.2.0/24"), [("other", N("10.1.0.0/16"))])
    ipam.check_overlap(N("10.2.0.0/24"), [("other", N("10.1.0.0/16"))])


def test_pick_subnet_skips_taken():
    pools = [(N("10.5.0.0/22"), 24)]
    assert ipam.pick_subnet(pools, [N("10.5.0.0/24"), N("10.5.1.0/25")]) == N("10.5.2.0/24")
    with pytest.raises(Unavailable):
        ipam.pick_subnet(pools, [N("10.5.0.0/22")])


def test_next_address_round_robin_skips_gateway_and_used():
    net, gw = N("10.1.0.0/29"), A("10.1.0.1")  # hosts .1-.6
    assert ipam.next_address(net, gw, set(), None) == A("10.1.0.2")
    assert ipam.next_address(net, gw, {A("10.1.0.2")}, None) == A("10.1.0.3")
    # after .3 was handed out, .2 (just released) is not reused at once
    assert ipam.next_address(net, gw, set(), A("10.1.0.3")) == A("10.1.0.4")
    # wraps round past the broadcast address
    assert ipam.next_address(net, gw, set(), A("10.1.0.6")) == A("10.1.0.2")
    full = {A(f"10.1.0.{i}") for i in range(2, 7)}
    with pytest.raises(Unavailable, match="10.1.0.0/29"):
        ipam.next_address(net, gw, full, None)


def test_requested_address_checks():
    net, gw = N("10.1.0.0/24"), A("10.1.0.1")
    assert ipam.check_requested(net, gw, set(), "10.1.0.50") == A("10.1.0.50")
    with pytest.raises(InvalidArgument, match="not in subnet"):
        ipam.check_requested(net, gw, set(), "10.9.0.50")
    with pytest.raises(InvalidArgument, match="reserved"):
        ipam.check_requested(net, gw, set(), "10.1.0.1")
    with pytest.raises(Conflict, match="in use"):
        ipam.check_requested(net, gw, {A("10.1.0.50")}, "10.1.0.50")


def test_mac_from_address():
    assert ipam.mac_for(A("172.17.0.2")) == "02:42:ac:11:00:02"


def test_next_address_from_an_ip_range():
    net, gw = N("10.1.0.0/24"), A("10.1.0.1")
    pool = ipam.check_ip_range(net, "10.1.0.128/30")  # .128-.131
    assert ipam.next_address(net, gw, set(), None, pool) == A("10.1.0.128")
    assert ipam.next_address(net, gw, set(), A("10.1.0.128"), pool) == A("10.1.0.129")
    assert ipam.next_address(net, gw, set(), A("10.1.0.131"), pool) == A("10.1.0.128")
    assert ipam.next_address(net, gw, set(), A("10.1.0.7"), pool) == A("10.1.0.128")
    with pytest.raises(Unavailable, match="ip-range 10.1.0.128/30"):
        ipam.next_address(net, gw, {A(f"10.1.0.{i}") for i in range(128, 132)}, None, pool)
    # a range at the edges of the subnet never hands out network or broadcast address
    top = ipam.check_ip_range(net, "10.1.0.252/30")
    assert ipam.next_address(net, gw, {A("10.1.0.252"), A("10.1.0.253")}, None, top) == \
        A("10.1.0.254")
    with pytest.raises(Unavailable):
        ipam.next_address(net, gw, {A("10.1.0.252"), A("10.1.0.253"), A("10.1.0.254")},
                          None, top)
    assert ipam.next_address(net, gw, set(), None, ipam.check_ip_range(net, "10.1.0.0/30")) \
        == A("10.1.0.2")  # .0 is the network, .1 the gateway
    with pytest.raises(InvalidArgument, match="not inside subnet"):
        ipam.check_ip_range(net, "10.2.0.0/28")
    with pytest.raises(InvalidArgument, match="ip-range"):
        ipam.check_ip_range(net, "10.1.0.5/28")


def test_aux_addresses_are_host_addresses_of_the_subnet():
    net = N("10.1.0.0/24")
    assert ipam.check_aux_addresses(net, {"router": "10.1.0.5"}) == {"router": "10.1.0.5"}
    for bad in ("10.2.0.5", "10.1.0.0", "10.1.0.255", "nope"):
        with pytest.raises(InvalidArgument, match="aux-address"):
            ipam.check_aux_addresses(net, {"x": bad})
