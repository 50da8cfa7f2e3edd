"""Pure helpers of the dispatcher, builder and output."""
import pytest

from dockyard.build import instructions as I, parser as P
from dockyard.build.builder import _display
from dockyard.build.dispatch import expand_ports, parse_duration
from dockyard.build.layers import run_argv
from dockyard.build.output import Output
from dockyard.build.state import StageState
from dockyard.errors import InvalidArgument


def test_expand_ports():
    assert expand_ports("80") == ["80/tcp"]
    assert expand_ports("53/UDP") == ["53/udp"]
    assert expand_ports("8000-8002/tcp") == ["8000/tcp", "8001/tcp", "8002/tcp"]
    for bad in ("http", "0", "9-1", "70000"):
        with pytest.raises(InvalidArgument):
            expand_ports(bad)


def test_parse_duration():
    assert parse_duration("30s") == 30 * 10**9
    assert parse_duration("1m30s") == 90 * 10**9
    assert parse_duration("500ms") == 5 * 10**8


def test_display_collapses_the_gap_after_the_keyword():
    assert _display("FROM        node") == "FROM node"
    assert _display("run   echo  a") == "RUN echo  a"


def command(text):
    node = P.parse("FROM x\n" + text).nodes[1]
    return I.from_node(node)


def test_run_argv_forms():
    st = StageState(0, "")
    assert run_argv(st, command("RUN echo hi")) == ["/bin/sh", "-c", "echo hi"]
    assert run_argv(st, command('RUN ["a", "b"]')) == ["a", "b"]
    st.config["Shell"] = ["/bin/bash", "-ec"]
    assert run_argv(st, command("RUN echo hi")) == ["/bin/bash", "-ec", "echo hi"]
    assert run_argv(st, command("RUN <<EOF\necho a\nEOF\n")) == ["/bin/bash", "-ec", "echo a\n"]
    assert run_argv(st, command("RUN python3 <<EOF\nprint(1)\nEOF\n")) == \
        ["/bin/bash", "-ec", "python3 <<EOF\nprint(1)\nEOF\n"]


def test_stage_env_and_args():
    st = StageState(0, "", config={"Env": ["A=1", "PATH=/bin"]}, args={"A": "arg", "B": "b", "C": None})
    assert st.substitution_env() == {"A": "1", "B": "b", "PATH": "/bin"}
    assert st.arg_values() == {"B": "b"}
    st.set_env("A", "2")
    assert st.env_list() == ["PATH=/bin", "A=2"]


def test_output_lines_and_quiet():
    got = []
    out = Output(got.append)
    out.step(1, 7, "FROM node")
    out.image("sha256:" + "8bcf3464832e" + "0" * 52)
    out.running_in("010b3c237efc" + "f" * 52)
    out.removing("010b3c237efc" + "f" * 52)
    out.built("sha256:ea36e1c2addd" + "0" * 52)
    out.tagged("team-documentation:latest")
    assert "".join(m.get("stream", "") for m in got) == (
        "Step 1/7 : FROM node\n ---> 8bcf3464832e\n ---> Running in 010b3c237efc\n"
        "Removing intermediate container 010b3c237efc\nSuccessfully built ea36e1c2addd\n"
        "Successfully tagged team-documentation:latest\n")
    assert {"aux": {"ID": "sha256:ea36e1c2addd" + "0" * 52}} in got
    quiet = []
    q = Output(quiet.append, quiet=True)
    q.step(1, 1, "FROM x")
    q.built("sha256:" + "1" * 64)
    assert quiet == [{"aux": {"ID": "sha256:" + "1" * 64}}, {"stream": "sha256:" + "1" * 64 + "\n"}]


def test_run_output_keeps_split_utf8_characters_whole():
    got = []
    out = Output(got.append)
    data = "héllo ✓\n".encode()
    for i in range(len(data)):
        out.run_output(data[i:i + 1])
    assert "".join(m["stream"] for m in got) == "héllo ✓\n"
