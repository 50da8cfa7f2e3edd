"""The CLI's own flag parser (dockyard/cli/flags.py): argparse's results for every verb's
configure(p), docker's parsing rules and docker's error texts and exit codes."""
import argparse

import pytest

from dockyard.cli import flags
from dockyard.cli.commands import COMMANDS
from dockyard.cli.main import _module, main

# verb -> command lines argparse and our parser must read the same way
SAMPLES = {
    "ps": [[], ["-a"], ["-aq"], ["-n", "5"], ["-n5"], ["--last=3"], ["-l"],
           ["-f", "status=exited", "--filter", "name=x"], ["--format", "{{.ID}}\t{{.Names}}"],
           ["--no-trunc", "-s"], ["-n", "-1"]],
    "run": [["-d", "--rm", "bb", "true"], ["-it", "bb", "sh", "-c", "echo hi"],
            ["--name", "x", "-e", "A=1", "-eB=2", "bb"], ["-p", "8080:80", "-v", "/a:/b", "bb", "ls", "-l"],
            ["bb", "--rm", "-x"], ["-h", "box", "bb"], ["--network=host", "bb"],
            ["-m", "512m", "--cpus", "1.5", "--pids-limit", "10", "bb"], ["--pull", "never", "bb"],
            ["--restart", "always", "-l", "a=b", "--label", "c=d", "bb", "x"],
            ["--entrypoint", "", "bb"], ["-c", "512", "--stop-timeout", "3", "bb"],
            ["--health-cmd", "true", "--health-interval", "1s", "bb"], ["bb"]],
    "create": [["--name", "x", "bb", "true"], ["-it", "bb"], ["--rm", "bb", "sh"]],
    "exec": [["-it", "c", "sh"], ["-e", "A=1", "c", "ls", "-la"], ["-d", "c", "sleep", "1"],
             ["c"], ["-u", "0", "-w", "/tmp", "c", "pwd"], ["--privileged", "c", "id"]],
    "start": [["a"], ["a", "b"], ["-a", "c"], ["-ai", "c"]],
    "stop": [["-t", "0", "a", "b"], ["--time=3", "a"], ["--timeout", "2", "a"], ["-s", "KILL", "a"]],
    "restart": [["-t", "1", "a"]],
    "kill": [["a"], ["-s", "HUP", "a", "b"]],
    "rm": [["-f", "a"], ["-fv", "a", "b"], ["a"]],
    "images": [[], ["-q"], ["bb"], ["--format", "{{.ID}}", "-a"], ["-f", "dangling=true", "--digests"]],
    "inspect": [["a"], ["-f", "{{.Id}}", "a", "b"], ["--type", "image", "x"], ["-s", "a"]],
    "logs": [["c"], ["-f", "--tail", "10", "c"], ["-n", "5", "-t", "c"], ["--since", "10s", "c"]],
    "version": [[], ["-f", "{{.Server.Version}}"]],
    "network": [["ls"], ["ls", "-q"], ["list", "--format", "{{.Name}}"],
                ["create", "--subnet", "10.1.0.0/24", "--internal", "n"], ["rm", "a", "b"],
                ["connect", "--alias", "x", "--ip", "10.1.0.9", "n", "c"], ["disconnect", "-f", "n", "c"],
                ["inspect", "-f", "{{.Id}}", "n"], ["prune", "-f"]],
    "volume": [["ls"], ["create", "v"], ["create"], ["rm", "v"], ["inspect", "v", "w"]],
    "container": [["ls", "-a"], ["prune", "-f"], ["inspect", "x"], ["run", "-d", "bb", "top"],
                  ["rm", "-f", "x"], ["logs", "x"]],
    "image": [["ls"], ["rm", "x"], ["inspect", "x"], ["list", "-q"], ["prune", "-a", "-f"]],
    "history": [["bb"], ["-H", "false", "bb"], ["--human=false", "bb"], ["--no-trunc", "bb"]],
    "commit": [["c"], ["c", "repo:tag"], ["-m", "msg", "c", "r"]],
    "top": [["c"], ["c", "aux"]],
    "cp": [["c:/a", "/b"], ["/b", "c:/a"]],
    "tag": [["a", "b"]],
    "port": [["c"], ["c", "80/tcp"]],
    "stats": [[], ["--no-stream", "a"], ["--no-stream"]],
    "wait": [["a", "b"]],
    "rename": [["a", "b"]],
    "pause": [["a"]],
    "unpause": [["a", "b"]],
    "diff": [["a"]],
    "export": [["-o", "x.tar", "a"]],
    "save": [["-o", "x.tar", "bb"]],
    "load": [["-i", "x.tar"], ["-q"]],
    "import": [["x.tar", "bb"], ["-", "bb:1"]],
    "attach": [["c"], ["--sig-proxy=false", "c"]],
    "search": [["bb"], ["--limit", "5", "bb"]],
    "rmi": [["a"], ["-f", "a", "b"]],
    "system": [["df"], ["prune", "-f"]],
    "info": [[]],
    "events": [[], ["--since", "1"]],
    "logout": [[], ["localhost:5000"]],
    "build": [["."], ["-t", "x", "-f", "Dockerfile", "--no-cache", "."]],
    "pull": [["bb"], ["-q", "bb"]],
    "push": [["bb"]],
}


def _both(verb: str):
    mod = _module(COMMANDS[verb])
    ours = flags.Parser(prog=f"dockyard {verb}")
    mod.configure(ours)
    ref = argparse.ArgumentParser(prog=verb)
    mod.configure(ref)
    return ours, ref


@pytest.mark.parametrize("verb", sorted(SAMPLES))
def test_same_namespace_as_argparse(verb):
    ours, ref = _both(verb)
    for argv in SAMPLES[verb]:
        assert vars(ours.parse(list(argv))) == vars(ref.parse_args(list(argv))), (verb, argv)


def test_every_verb_configures():
    for verb in COMMANDS:
        p = flags.Parser(prog=f"dockyard {verb}")
        _module(COMMANDS[verb]).configure(p)
        assert p.format_help().startswith(f"Usage:  dockyard {verb}")


def _parser():
    p = flags.Parser(prog="dockyard t")
    p.add_argument("-i", "--interactive", action="store_true")
    p.add_argument("-t", "--tty", action="store_true")
    p.add_argument("-e", "--env", action="append", default=[])
    p.add_argument("--name")
    p.add_argument("-n", "--count", type=int, default=-1)
    p.add_argument("-v", "--verbose", action="count")
    p.add_argument("--mode", choices=["a", "b"])
    p.add_argument("image")
    p.add_argument("command", nargs=flags.REMAINDER)
    return p


def test_docker_style_parsing():
    p = _parser()
    ns = p.parse(["-it", "-eA=1", "-e", "B=2", "--name=x", "-n3", "-vv", "img", "sh", "-c", "-it"])
    assert ns.interactive and ns.tty and ns.env == ["A=1", "B=2"] and ns.name == "x"
    assert ns.count == 3 and ns.verbose == 2 and ns.image == "img"
    assert ns.command == ["sh", "-c", "-it"]  # flags after IMAGE belong to the command
    assert p.parse(["--name", "-x", "img"]).name == "-x"  # a value may start with "-"
    assert p.parse(["-n=4", "img"]).count == 4 and p.parse(["-n", "-2", "img"]).count == -2
    assert p.parse(["--", "-img", "a"]).image == "-img"
    ns = p.parse(["--tty=false", "-i=true", "img"])
    assert ns.tty is False and ns.interactive is True
    assert p.parse(["img"]).command == [] and p.parse(["img"]).env == []


def test_append_default_not_shared():
    p = _parser()
    p.parse(["-e", "A=1", "img"])
    assert p.parse(["img"]).env == []


def test_set_defaults_wins_and_resolve():
    p = flags.Parser(prog="dockyard create")
    p.set_defaults(detach=True, rm=False)
    p.add_argument("--rm", action="store_true")
    p.add_argument("-d", "--detach", action="store_true")
    p.add_argument("-h", "--hostname")  # replaces -h of --help, as run/create do
    p.add_argument("x")
    ns = p.parse(["-h", "box", "y"])
    assert ns.detach is True and ns.rm is False and ns.hostname == "box"
    with pytest.raises(flags._Help):
        p.parse(["--help"])


def test_positional_counts():
    p = flags.Parser(prog="dockyard cp")
    p.add_argument("a")
    p.add_argument("rest", nargs="+")
    p.add_argument("last")
    ns = p.parse(["1", "2", "3", "4"])
    assert (ns.a, ns.rest, ns.last) == ("1", ["2", "3"], "4")
    q = flags.Parser(prog="dockyard commit")
    q.add_argument("c")
    q.add_argument("repo", nargs="?")
    q.add_argument("more", nargs="*")
    assert vars(q.parse(["c"])) == {"c": "c", "repo": None, "more": []}
    assert vars(q.parse(["c", "r", "m1", "m2"])) == {"c": "c", "repo": "r", "more": ["m1", "m2"]}


@pytest.mark.parametrize("argv,text,status", [
    (["--bogus", "img"], "unknown flag: --bogus", 125),
    (["-x", "img"], "unknown shorthand flag: 'x' in -x", 125),
    (["-ix", "img"], "unknown shorthand flag: 'x' in -ix", 125),
    (["img", "--name"], None, 0),  # after IMAGE: the command's own flag
    (["--name"], "flag needs an argument: --name", 125),
    (["-e"], "flag needs an argument: 'e' in -e", 125),
    (["-n", "x", "img"], 'invalid argument "x" for "-n, --count" flag: strconv.ParseInt: '
                         'parsing "x": invalid syntax', 125),
    (["--tty=maybe", "img"], 'invalid argument "maybe" for "-t, --tty" flag: strconv.ParseBool', 125),
    (["--mode", "c", "img"], 'invalid argument "c" for "--mode" flag: must be one of: a, b', 125),
    ([], "dockyard: 'dockyard t' requires at least 1 argument", 1),
])
def test_errors(argv, text, status, capsys):
    p = _parser()
    if text is None:
        p.parse(argv)
        return
    with pytest.raises(SystemExit) as e:
        p.parse_args(argv)
    assert e.value.code == status
    err = capsys.readouterr().err
    assert err.startswith(text)
    assert "Usage:  dockyard t [OPTIONS] IMAGE [COMMAND] [ARG...]" in err


def test_argument_count_messages(capsys):
    p = flags.Parser(prog="dockyard rename")
    p.add_argument("old")
    p.add_argument("new")
    for argv in (["a"], ["a", "b", "c"]):
        with pytest.raises(SystemExit) as e:
            p.parse_args(argv)
        assert e.value.code == 1
        assert "'dockyard rename' requires 2 arguments" in capsys.readouterr().err
    q = flags.Parser(prog="dockyard images")
    q.add_argument("repo", nargs="?")
    with pytest.raises(SystemExit):
        q.parse_args(["a", "b"])
    assert "requires at most 1 argument\n" in capsys.readouterr().err


def test_help_docker_style(capsys):
    p = flags.Parser(prog="dockyard ps", description="List containers")
    p.add_argument("-a", "--all", action="store_true", help="Show all containers")
    p.add_argument("-n", "--last", type=int, default=-1, help="Show n last created containers")
    p.add_argument("--format", help="Format output")
    p.add_argument("-f", "--filter", action="append", default=[], help="Filter output")
    with pytest.raises(SystemExit) as e:
        p.parse_args(["-h"])
    assert e.value.code == 0
    out = capsys.readouterr().out
    assert out == ("Usage:  dockyard ps [OPTIONS]\n\nList containers\n\nOptions:\n"
                   "  -a, --all             Show all containers\n"
                   "  -f, --filter list     Filter output\n"
                   "      --format string   Format output\n"
                   "  -n, --last int        Show n last created containers (default -1)\n")


def test_subcommands(capsys):
    p = flags.Parser(prog="dockyard network", description="Manage networks")
    sub = p.add_subparsers(dest="action", metavar="COMMAND", required=True)
    ls = sub.add_parser("ls", aliases=["list"], help="List networks")
    ls.add_argument("-q", "--quiet", action="store_true")
    rm = sub.add_parser("rm", help="Remove networks")
    rm.add_argument("networks", nargs="+")
    assert vars(p.parse(["list", "-q"])) == {"action": "list", "quiet": True}
    assert vars(p.parse(["rm", "a", "b"])) == {"action": "rm", "networks": ["a", "b"]}
    with pytest.raises(SystemExit) as e:  # no sub-command: help, as docker does
        p.parse_args([])
    assert e.value.code == 0 and "Commands:\n  ls          List networks\n  rm          Remove networks\n" \
        in capsys.readouterr().out
    with pytest.raises(SystemExit) as e:
        p.parse_args(["nope"])
    assert e.value.code == 1 and "'nope' is not a dockyard network command" in capsys.readouterr().err
    with pytest.raises(SystemExit) as e:
        p.parse_args(["rm", "--help"])
    assert e.value.code == 0 and capsys.readouterr().out.startswith(
        "Usage:  dockyard network rm NETWORKS [NETWORKS...]\n")


def test_main_exit_codes(capsys, monkeypatch):
    monkeypatch.setenv("DOCKYARD_HOST", "unix:///nonexistent/dockyard.sock")
    monkeypatch.setenv("DOCKYARD_NO_AUTOSTART", "1")
    assert main(["run", "--bogus", "bb"]) == 125
    assert "unknown flag: --bogus" in capsys.readouterr().err
    assert main(["ps", "--help"]) == 0
    assert capsys.readouterr().out.startswith("Usage:  dockyard ps [OPTIONS]")
    assert main(["rm"]) == 1
    assert main(["ps"]) == 1
    assert "Cannot connect to the dockyard daemon" in capsys.readouterr().err


def test_negative_number_is_a_value():
    assert flags._negative_number("-1") and flags._negative_number("-1.5")
    assert not flags._negative_number("-x") and not flags._negative_number("-")
    assert not flags._negative_number("--1")


_TOKENS = ["-it", "-i", "-t", "-e", "-eA=1", "--env", "--env=B=2", "--name", "--name=x", "-p",
           "8080:80", "--rm", "--rm=false", "--rm=maybe", "-d", "--", "-", "bb", "sh", "-c",
           "", "-h", "--help", "--bogus", "-x", "-n", "-1", "--pull", "never", "--pull=bad",
           "--cpu-shares", "x", "-c5", "--restart=always", "-dit", "-e=C=3"]


def test_fuzz_run_parser_fails_only_with_parse_errors():
    from hypothesis import given, settings, strategies as st

    def parser():
        p = flags.Parser(prog="dockyard run")
        _module(COMMANDS["run"]).configure(p)
        return p

    @settings(max_examples=400, deadline=None)
    @given(st.lists(st.sampled_from(_TOKENS), max_size=8))
    def check(argv):
        try:
            ns = parser().parse(list(argv))
        except (flags.ParseError, flags._Help):
            return
        assert isinstance(ns.image, str) and isinstance(ns.command, list)
        assert all(isinstance(e, str) for e in ns.env)

    check()


def test_short_flag_with_equals_and_empty_value():
    p = _parser()
    assert p.parse(["-e=", "img"]).env == [""]
    assert p.parse(["-e=K=V", "img"]).env == ["K=V"]
