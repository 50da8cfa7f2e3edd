"""--detach-keys parsing and the escape scanner of attached TTY sessions."""
import pytest

from dockyard.detachkeys import Scanner as EscapeScanner
from dockyard.detachkeys import parse as parse_detach_keys


def test_parse_detach_keys_like_docker():
    assert parse_detach_keys(None) == parse_detach_keys("") == b"\x10\x11"
    assert parse_detach_keys("ctrl-a,b") == b"\x01b"
    assert parse_detach_keys("ctrl-@,ctrl-[,ctrl-\\,ctrl-],ctrl-^,ctrl-_") == bytes(
        [0, 27, 28, 29, 30, 31])
    assert parse_detach_keys("CTRL-Z,x,y") == b"\x1axy"
    for bad in ("ctrl-1", "abc", "ctrl-", "a,,b", "é"):
        with pytest.raises(ValueError, match=r"Invalid detach keys \(.*\) provided"):
            parse_detach_keys(bad)


def test_scanner_passes_everything_but_the_sequence():
    s = EscapeScanner(b"\x10\x11")
    assert s.feed(b"ls\r") == (b"ls\r", False)
    assert s.feed(b"ab\x10") == (b"ab", False)      # held back: may be the start
    assert s.feed(b"c") == (b"\x10c", False)         # it was not: passed on in order
    s = EscapeScanner(b"\x10\x11")
    assert s.feed(b"x\x10") == (b"x", False)
    assert s.feed(b"\x11tail") == (b"", True)        # across reads; nothing after is sent
    s = EscapeScanner(b"\x10\x11")
    assert s.feed(b"\x10\x10\x11") == (b"\x10", True)  # a repeated first key restarts
    s = EscapeScanner(b"\x01b")
    assert s.feed(b"echo\x01c\x01b") == (b"echo\x01c", True)
