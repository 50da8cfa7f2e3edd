"""Variable substitution and word splitting per Docker's rules."""
import pytest

from dockyard.build.shell_lex import expand, expand_words, split_unquoted
from dockyard.errors import InvalidArgument

ENV = {"A": "alpha", "E": "", "SP": "one two"}


@pytest.mark.parametrize("word,want", [
    ("$A", "alpha"), ("${A}", "alpha"), ("x${A}y", "xalphay"), ("$A/b", "alpha/b"),
    ("$NOPE", ""), ("${NOPE:-dflt}", "dflt"), ("${E:-dflt}", "dflt"), ("${E-dflt}", ""),
    ("${A:+set}", "set"), ("${E:+set}", ""), ("${E+set}", "set"), ("${NOPE+set}", ""),
    ("${NOPE:-$A}", "alpha"), ("'$A'", "$A"), ('"$A"', "alpha"), ('"a b"', "a b"),
    (r"\$A", "$A"), (r'"\$A"', "$A"), (r'"\"q\""', '"q"'), ("a\\ b", "a b"),
    ("$", "$"), ("cost$", "cost$"), ("${A}${A}", "alphaalpha"),
])
def test_expand(word, want):
    assert expand(word, ENV) == want


def test_backtick_escape():
    assert expand("`$A", ENV, escape="`") == "$A"
    assert expand("\\path", ENV, escape="`") == "\\path"


def test_required_variable():
    with pytest.raises(InvalidArgument, match="NOPE: must be set"):
        expand("${NOPE:?must be set}", ENV)
    assert expand("${A:?x}", ENV) == "alpha"


def test_bad_substitutions():
    with pytest.raises(InvalidArgument, match="missing"):
        expand("${A", ENV)
    with pytest.raises(InvalidArgument, match="unsupported modifier"):
        expand("${A%x}", ENV)
    with pytest.raises(InvalidArgument, match="single-quote"):
        expand("'abc", ENV)


def test_word_splitting():
    assert expand_words("a $SP 'c d'", ENV) == ["a", "one", "two", "c d"]
    assert expand_words('"$SP"', ENV) == ["one two"]
    assert expand_words("''", ENV) == [""]
    assert expand_words("  ", ENV) == []


def test_split_unquoted_keeps_quotes():
    assert split_unquoted('a="x y" b=c') == ['a="x y"', "b=c"]
    assert split_unquoted(r"a\ b c") == [r"a\ b", "c"]
