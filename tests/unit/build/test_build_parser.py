"""Dockerfile parsing: directives, comments, continuations, heredocs, inline comments."""
import pytest

from dockyard.build import parser as P

TALK = """FROM        node                        # base image to use
MAINTAINER  Spencer Scorcelletti <spencer.scorcelletti@salesforce.com>
ADD         ./team-documentation /code  # add our source code
WORKDIR     /code                       # establish a working directory
RUN         npm install                 # install dependencies
EXPOSE      3000                        # export port 3000 to the outside world
CMD         npm start                   # i.e. "do this when someone runs you, unless they say otherwise"
"""


def test_talk_verbatim_one_error_per_inline_comment():
    with pytest.raises(P.DockerfileError) as exc:
        P.parse(TALK)
    errs = exc.value.errors
    assert [e.split(":")[1] for e in errs] == ["1", "3", "4", "5", "6", "7"]
    assert errs[0].startswith("Dockerfile:1: inline comment '# base image to use' after FROM")
    assert all("comments must start the line" in e for e in errs)
    assert str(exc.value).count("\n") == 5


def test_hash_inside_quotes_or_words_is_not_a_comment():
    df = P.parse('LABEL a="x # y"\nRUN echo a#b\nENV C=#d\nRUN echo \\# e\n')
    assert [n.cmd for n in df.nodes] == ["label", "run", "env", "run"]


def test_comments_and_blank_lines_and_continuations():
    df = P.parse("# c\n\nRUN a \\\n  # inside\n\n  b\nCMD x\n")
    assert df.nodes[0].rest == "a   b"
    assert df.nodes[0].line == 3
    assert df.nodes[1].line == 7


def test_escape_directive_and_syntax_note():
    df = P.parse("# syntax=docker/dockerfile:1\n# escape=`\nFROM x\nRUN a `\n b\n")
    assert df.escape == "`"
    assert df.nodes[1].rest == "a  b"
    assert "accepted and ignored" in df.notes[0]


def test_directive_after_instruction_is_a_comment():
    df = P.parse("FROM x\n# escape=`\nRUN a \\\n b\n")
    assert df.escape == "\\"
    assert df.nodes[1].rest == "a  b"


def test_bad_escape_directive():
    with pytest.raises(P.DockerfileError, match="invalid escape"):
        P.parse("# escape=x\nFROM a\n")


def test_heredocs():
    df = P.parse("FROM x\nRUN <<EOF\necho hi\necho $HOME\nEOF\nCOPY <<-\"END\" /f\n\tline\n\tEND\nCMD y\n")
    run, copy, cmd = df.nodes[1:]
    assert run.heredocs[0].content == "echo hi\necho $HOME\n" and run.heredocs[0].expand
    assert copy.heredocs[0].content == "line\n" and not copy.heredocs[0].expand
    assert cmd.cmd == "cmd"


def test_unterminated_heredoc():
    with pytest.raises(P.DockerfileError, match="Dockerfile:2: heredoc <<EOF is not terminated"):
        P.parse("FROM x\nRUN <<EOF\necho\n")


def test_json_form():
    assert P.parse_json_list('["a", "b c"]') == ["a", "b c"]
    assert P.parse_json_list("[ -f /x ]") is None
    assert P.parse_json_list("echo hi") is None
    with pytest.raises(Exception, match="double quotes"):
        P.parse_json_list("['a']")
    with pytest.raises(Exception, match="list of strings"):
        P.parse_json_list('["a", 1]')


def test_split_flags():
    assert P.split_flags("--from=build --link a b") == ({"from": "build", "link": "true"}, "a b")
