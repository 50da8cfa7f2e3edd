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


class FakeProc:
    """Stands in for an iptables-restore process: records what reaches its stdin."""

    def __init__(self, alive=True):
        import io
        self.alive = alive
        self.written = b""
        self.closed = False
        self.stderr = io.BytesIO()
        test = self

        class Stdin:
            def write(self, data):
                if not test.alive:
                    raise BrokenPipeError(32, "broken pipe")
                test.written += data

            def close(self):
                test.closed = True
        self.stdin = Stdin()

    def poll(self):
        return None if self.alive else 0

    def wait(self, timeout=None):
        return 0


def fake_processes(monkeypatch, backend="nf_tables"):
    from dockyard.network import portmap
    made: list[FakeProc] = []

    def popen():
        made.append(FakeProc())
        return made[-1]
    monkeypatch.setattr(portmap, "_popen", popen)
    monkeypatch.setattr(portmap, "_nft_backend", lambda: backend == "nf_tables")
    monkeypatch.setattr(portmap, "_standby", portmap._Standby())
    return made


def test_standby_is_started_only_after_a_real_batch(monkeypatch):
    from dockyard.network import portmap
    made = fake_processes(monkeypatch)
    portmap.keep_standby()
    assert made == []  # nothing applied yet in this process (unit tests stub batches)
    portmap.start_restore("*nat\nCOMMIT\n")
    assert len(made) == 1 and made[0].written == b"*nat\nCOMMIT\n" and made[0].closed
    portmap.keep_standby()
    portmap.keep_standby()  # one standby at a time
    assert len(made) == 2 and made[1].written == b"" and not made[1].closed


def test_next_batch_goes_to_the_standby_process(monkeypatch):
    from dockyard.network import portmap
    made = fake_processes(monkeypatch)
    portmap.start_restore("first")
    portmap.keep_standby()
    pending = portmap.start_restore("second")
    assert pending.proc is made[1] and made[1].written == b"second"
    assert len(made) == 2
    portmap.start_restore("third")  # no standby left: a fresh process
    assert len(made) == 3 and made[2].written == b"third"


def test_a_dead_standby_is_replaced(monkeypatch):
    from dockyard.network import portmap
    made = fake_processes(monkeypatch)
    portmap.start_restore("first")
    portmap.keep_standby()
    made[1].alive = False
    pending = portmap.start_restore("second")
    assert pending.proc is made[2] and made[2].written == b"second"


def test_drop_standby_closes_its_stdin(monkeypatch):
    from dockyard.network import portmap
    made = fake_processes(monkeypatch)
    portmap.start_restore("first")
    portmap.keep_standby()
    portmap.drop_standby()
    assert made[1].closed and made[1].written == b""
    portmap.start_restore("second")
    assert made[2].written == b"second"


def test_no_standby_with_the_legacy_backend(monkeypatch):
    """legacy iptables-restore takes the xtables lock at start: never keep one idle."""
    from dockyard.network import portmap
    made = fake_processes(monkeypatch, backend="legacy")
    portmap.start_restore("first")
    portmap.keep_standby()
    assert len(made) == 1
