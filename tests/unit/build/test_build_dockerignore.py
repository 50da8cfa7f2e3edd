"""Docker's .dockerignore pattern rules."""
import pytest

from dockyard.build.dockerignore import Matcher, read_patterns


def m(text):
    return Matcher(read_patterns(text))


@pytest.mark.parametrize("patterns,path,excluded", [
    ("*.md", "README.md", True),
    ("*.md", "docs/a.md", False),          # * does not cross /
    ("**/*.md", "docs/a.md", True),
    ("**/*.md", "a.md", True),             # ** matches zero directories
    ("docs", "docs/deep/x", True),         # a parent match excludes children
    ("/docs/", "docs/x", True),            # leading and trailing / are cleaned
    ("docs/**", "docs/x/y", True),
    ("a?c", "abc", True), ("a?c", "a/c", False),
    ("[a-c].txt", "b.txt", True), ("[!a-c].txt", "b.txt", False),
    ("*\n!keep.md", "keep.md", False),
    ("*.md\n!keep.md\nkeep.md", "keep.md", True),  # the last match wins
    ("docs\n!docs/keep", "docs/keep", False),
    ("docs\n!docs/keep", "docs/other", True),
    ("# comment\n\n  node_modules  ", "node_modules/x/y.js", True),
    ("./build", "build/out", True),
    ("a/../b", "b", True),
])
def test_patterns(patterns, path, excluded):
    assert m(patterns).excluded(path) is excluded


def test_may_include_below():
    assert not m("docs").may_include_below("docs")
    assert m("docs\n!docs/keep").may_include_below("docs")
    assert m("docs\n!**/*.go").may_include_below("docs")


def test_bad_pattern():
    with pytest.raises(Exception, match="unclosed"):
        m("[abc")
