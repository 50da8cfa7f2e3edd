"""The CLI's hand-written scanners agree with the re/shlex code they replaced (those
modules cost more start-up time than a request, see dockyard/cli/output.py)."""
import re
import shlex

import pytest
from hypothesis import given, strategies as st

from dockyard.cli import output
from dockyard.cli.commands import _runopts as ro
from dockyard.cli.commands.logs import _when
from dockyard.cli.main import CommandError

_ACTION = re.compile(r"\{\{-?\s*(.*?)\s*-?\}\}")
_SIZE = re.compile(r"^(\d+(?:\.\d+)?)\s*([kmgtp]?)(i?b)?$", re.I)
_MULT = {"": 1, "k": 1024, "m": 1024 ** 2, "g": 1024 ** 3, "t": 1024 ** 4, "p": 1024 ** 5}
_UNITS = {"ns": 1, "us": 1e3, "ms": 1e6, "s": 1e9, "m": 6e10, "h": 3.6e12}


def _old_ram(v):
    m = _SIZE.match(v.strip())
    return int(float(m.group(1)) * _MULT[m.group(2).lower()]) if m else None


def _old_duration(v):
    total, pos = 0.0, 0
    for m in re.finditer(r"(\d+(?:\.\d+)?)(ns|us|ms|s|m|h)", v):
        if m.start() != pos:
            break
        total += float(m.group(1)) * _UNITS[m.group(2)]
        pos = m.end()
    return int(total) if pos == len(v) else None


_pieces = st.sampled_from(["{{", "}}", "-", " ", "\n", "\t", ".Name", "x", '"', "'", "{", "}",
                           "json .", "a b"])


@given(st.lists(_pieces, max_size=12).map("".join))
def test_actions_like_the_regex(fmt):
    assert output.sub_actions(fmt, lambda e: f"<{e}>") == \
        _ACTION.sub(lambda m: f"<{m.group(1)}>", fmt)


@given(st.lists(_pieces, max_size=12).map("".join))
def test_words_like_shlex(expr):
    try:
        want = shlex.split(expr, posix=False)
    except ValueError:
        with pytest.raises(ValueError):
            output.split_words(expr)
        return
    assert output.split_words(expr) == want


@given(st.lists(st.sampled_from(["1", "5", "0", ".", "5", " ", "k", "M", "g", "i", "B", "b",
                                 "t", "P", "z", "x", "-"]), max_size=7).map("".join))
def test_ram_size_like_the_regex(v):
    want = _old_ram(v)
    if want is None:
        with pytest.raises(CommandError):
            ro.ram_size("-m, --memory", v)
    else:
        assert ro.ram_size("-m, --memory", v) == want


@given(st.lists(st.sampled_from(["1", "30", ".", "5", "h", "m", "s", "ms", "us", "ns", "x",
                                 " "]), min_size=1, max_size=7).map("".join))
def test_duration_like_the_regex(v):
    want = _old_duration(v)
    if want is None:
        with pytest.raises(CommandError):
            ro.duration_ns("--health-interval", v)
    else:
        assert ro.duration_ns("--health-interval", v) == want


def test_header_and_since():
    assert output._header(".RunningFor", {}) == "RUNNING FOR"
    assert output._header("json .CreatedAt", {"CreatedAt": "CREATED AT"}) == "CREATED AT"
    assert _when(None) is None and _when("2024-01-01T00:00:00Z") == "2024-01-01T00:00:00Z"
    assert _when("1700000000") == "1700000000" and _when("1.5x") == "1.5x"
    assert float(_when("10m")) > 1.7e9
