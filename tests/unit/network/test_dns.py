import struct

import pytest

from dockyard.network import dns


def query(name: str, qtype: int = dns.TYPE_A, qid: int = 0x1234) -> bytes:
    q = b"".join(bytes([len(p)]) + p.encode() for p in name.split(".")) + b"\0"
    return struct.pack("!HHHHHH", qid, 0x0100, 1, 0, 0, 0) + q + struct.pack("!HH", qtype, 1)


def test_parse_query():
    qid, flags, name, qtype, end = dns.parse_query(query("Web.Example"))
    assert (qid, name, qtype) == (0x1234, "web.example", dns.TYPE_A)
    assert end == len(query("Web.Example"))
    with pytest.raises(ValueError):
        dns.parse_query(b"\0" * 5)


def test_answer_carries_a_records():
    packet = query("web")
    reply = dns.build_answer(packet, ["10.1.0.2", "10.1.0.3"])
    qid, flags, qd, an = struct.unpack("!HHHH", reply[:8])
    assert (qid, qd, an) == (0x1234, 1, 2)
    assert flags & 0x8000 and flags & 0x0F == dns.NOERROR
    assert reply.endswith(bytes([10, 1, 0, 3]))


def test_refused_has_no_answers():
    reply = dns.build_answer(query("elsewhere.org"), [], dns.REFUSED)
    assert struct.unpack("!H", reply[2:4])[0] & 0x0F == dns.REFUSED
    assert struct.unpack("!H", reply[6:8])[0] == 0


def test_upstreams_skip_loopback(tmp_path):
    conf = tmp_path / "resolv.conf"
    conf.write_text("nameserver 127.0.0.53\nnameserver 10.9.9.9\nnameserver ::1\nsearch x\n")
    assert dns.upstream_servers(str(conf)) == ["10.9.9.9"]
