from dockyard.network.portmap import (BridgeNet, Mapping, base_batch, mapping_batch,
                                      present_jumps)

CID = "ab" * 32


def test_mapping_batch_is_one_transaction():
    maps = [Mapping(CID, "tcp", "0.0.0.0", 8080, "10.0.0.2", 80),
            Mapping(CID, "udp", "127.0.0.1", 5353, "10.0.0.2", 53)]
    batch = mapping_batch("DY", maps)
    assert batch.splitlines() == [
        "*nat",
        "-A DY -p tcp -m tcp --dport 8080 -m comment --comment dy:abababababab "
        "-j DNAT --to-destination 10.0.0.2:80",
        "-A DY -d 127.0.0.1/32 -p udp -m udp --dport 5353 -m comment --comment dy:abababababab "
        "-j DNAT --to-destination 10.0.0.2:53",
        "COMMIT"]
    assert mapping_batch("DY", maps[:1], "-D").splitlines()[1].startswith("-D DY -p tcp")


def test_base_batch_declares_chains_and_only_missing_jumps():
    nets = [BridgeNet("br0", "10.0.0.0/24", False), BridgeNet("br1", "10.0.1.0/24", True)]
    batch = base_batch("DY", nets, [], {"nat PREROUTING", "filter FORWARD"})
    lines = batch.splitlines()
    assert ":DY - [0:0]" in lines and ":DY-POSTROUTING - [0:0]" in lines
    assert ":DY-FORWARD - [0:0]" in lines
    assert "-I OUTPUT 1 -m addrtype --dst-type LOCAL -j DY" in lines
    assert not any(line.startswith("-I PREROUTING") or line.startswith("-I FORWARD")
                   for line in lines)
    assert "-A DY-POSTROUTING -s 127.0.0.0/8 -o br0 -j MASQUERADE" in lines
    # outbound NAT only for the non-internal network; internal traffic leaving is dropped
    assert "-A DY-POSTROUTING -s 10.0.0.0/24 ! -o br0 -j MASQUERADE" in lines
    assert not any("! -o br1 -j MASQUERADE" in line for line in lines)
    assert "-A DY-FORWARD -i br1 -j DROP" in lines and "-A DY-FORWARD -i br0 -j ACCEPT" in lines
    # isolation drops come after every accept of established/published traffic
    assert lines.index("-A DY-FORWARD -o br0 -j DROP") > lines.index(
        "-A DY-FORWARD -i br1 -o br1 -j ACCEPT")


def test_present_jumps_reads_iptables_save():
    saved = """*nat
:PREROUTING ACCEPT [0:0]
-A PREROUTING -m addrtype --dst-type LOCAL -j DY
-A POSTROUTING -j DY-POSTROUTING
-A POSTROUTING -j OTHER
COMMIT
*filter
-A FORWARD -j DY-FORWARD
COMMIT
"""
    assert present_jumps("DY", saved) == {"nat PREROUTING", "nat POSTROUTING", "filter FORWARD"}
