import socket

import pytest

from dockyard.errors import Conflict, InvalidArgument
from dockyard.network.portspec import Binding
from dockyard.network.ports import PortReserver


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_reserve_exact_then_conflict_then_release():
    r = PortReserver()
    port = free_port()
    try:
        assert r.reserve(Binding("tcp", 80, "127.0.0.1", port, port)) == port
        with pytest.raises(Conflict, match=f"127.0.0.1:{port}/tcp"):
            r.reserve(Binding("tcp", 81, "127.0.0.1", port, port))
        # the wildcard address clashes with a specific one on the same port
        with pytest.raises(Conflict):
            r.take("tcp", "0.0.0.0", port)
        # another protocol is independent
        r.take("udp", "127.0.0.1", port)
        r.release("tcp", "127.0.0.1", port)
        r.take("tcp", "127.0.0.1", port)
    finally:
        r.close()


def test_port_used_by_a_host_program_is_a_conflict():
    with socket.create_server(("127.0.0.1", 0)) as listener:
        port = listener.getsockname()[1]
        r = PortReserver()
        with pytest.raises(Conflict, match="in use on the host"):
            r.take("tcp", "127.0.0.1", port)
        r.close()


def test_any_port_comes_from_the_range_and_skips_taken():
    r = PortReserver()
    try:
        first = r.reserve(Binding("tcp", 80, "127.0.0.1", 0, 0))
        second = r.reserve(Binding("tcp", 80, "127.0.0.1", 0, 0))
        assert first != second
    finally:
        r.close()


def test_unknown_host_ip_is_invalid():
    r = PortReserver()
    with pytest.raises(InvalidArgument, match="203.0.113.77"):
        r.take("tcp", "203.0.113.77", free_port())
    r.close()
