"""The hand-packed rtnetlink requests, parsed back attribute by attribute."""
import socket
import struct

from dockyard.network import rtnl


def attrs(data: bytes) -> dict[int, bytes]:
    out, pos = {}, 0
    while pos + 4 <= len(data):
        size, kind = struct.unpack_from("=HH", data, pos)
        out[kind & 0x3FFF] = data[pos + 4:pos + size]
        pos += (size + 3) & ~3
    return out


def test_veth_add_request():
    kind, flags, body = rtnl.veth_add("dyv01020304", 7, 1400, "eth0", "02:42:0a:00:00:02", 9)
    assert kind == rtnl.RTM_NEWLINK
    assert flags == rtnl.NLM_F_CREATE | rtnl.NLM_F_EXCL
    family, _type, index, ifflags, change = struct.unpack_from("=BxHiII", body)
    assert (family, index, ifflags, change) == (socket.AF_UNSPEC, 0, rtnl.IFF_UP, rtnl.IFF_UP)
    top = attrs(body[16:])
    assert top[rtnl.IFLA_IFNAME] == b"dyv01020304\0"
    assert struct.unpack("=I", top[rtnl.IFLA_MTU]) == (1400,)
    assert struct.unpack("=I", top[rtnl.IFLA_MASTER]) == (7,)
    info = attrs(top[rtnl.IFLA_LINKINFO])
    assert info[rtnl.IFLA_INFO_KIND] == b"veth\0"
    peer = attrs(info[rtnl.IFLA_INFO_DATA])[rtnl.VETH_INFO_PEER]
    assert len(peer) > 16 and peer[:16] == struct.pack("=BxHiII", socket.AF_UNSPEC, 0, 0, 0, 0)
    peer_attrs = attrs(peer[16:])
    assert peer_attrs[rtnl.IFLA_IFNAME] == b"eth0\0"
    assert peer_attrs[rtnl.IFLA_ADDRESS] == bytes([2, 0x42, 10, 0, 0, 2])
    assert struct.unpack("=I", peer_attrs[rtnl.IFLA_MTU]) == (1400,)
    assert struct.unpack("=I", peer_attrs[rtnl.IFLA_NET_NS_FD]) == (9,)


def test_messages_are_4_byte_aligned():
    for kind, flags, body in (rtnl.veth_add("v", 1, 1500, "eth10", "02:00:00:00:00:01", 3),
                              rtnl.link_up(2), rtnl.addr_add(2, "10.0.0.2", 24),
                              rtnl.default_route("10.0.0.1")):
        msg = rtnl._message(kind, flags, 1, body)
        assert len(msg) % 4 == 0
        assert struct.unpack_from("=L", msg)[0] == len(msg)
