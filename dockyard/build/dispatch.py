"""The dispatch table: one handler per instruction (moby's ``dispatchers.go``).

A handler is ``handler(builder, stage, instruction)``. Config-only instructions
(ENV, LABEL, CMD, EXPOSE, ...) update ``stage.config`` and call
``builder.commit_config``: no container and no layer. RUN, COPY and ADD go through
the builder's layer steps. FROM is handled by the builder itself (it starts a stage).
"""
from __future__ import annotations

import json
import posixpath
import re
from typing import TYPE_CHECKING, Callable

from dockyard.build import instructions as I
from dockyard.build.state import StageState
from dockyard.errors import InvalidArgument

if TYPE_CHECKING:
    from dockyard.build.builder import Builder

Handler = Callable[["Builder", StageState, I.Instruction], None]
PORT_RE = re.compile(r"^(\d+)(?:-(\d+))?(?:/(tcp|udp|sctp))?$", re.I)
DURATION_UNITS = {"ns": 1, "us": 10**3, "µs": 10**3, "ms": 10**6, "s": 10**9, "m": 60 * 10**9, "h": 3600 * 10**9}


def nop(created_by: str) -> str:
    """History text of a config-only step, as docker writes it."""
    return f"/bin/sh -c #(nop)  {created_by}"


def dispatch_env(b: "Builder", st: StageState, ins: I.KeyValues) -> None:
    env = st.substitution_env()  # every pair sees the env from before this line
    parts = []
    for key, value in ins.pairs:
        k, v = b.expand(key, env), b.expand(value, env)
        if not k:
            raise InvalidArgument("ENV names can not be blank")
        st.set_env(k, v)
        parts.append(f"{k}={v}")
    b.commit_config(st, nop("ENV " + " ".join(parts)))


def dispatch_label(b: "Builder", st: StageState, ins: I.KeyValues) -> None:
    env = st.substitution_env()
    labels = dict(st.config.get("Labels") or {})
    parts = []
    for key, value in ins.pairs:
        k, v = b.expand(key, env), b.expand(value, env)
        if not k:
            raise InvalidArgument("LABEL names can not be blank")
        labels[k] = v
        parts.append(f"{k}={json.dumps(v)}")
    st.config["Labels"] = labels
    b.commit_config(st, nop("LABEL " + " ".join(parts)))


def dispatch_maintainer(b: "Builder", st: StageState, ins: I.Words) -> None:
    st.author = ins.words[0]
    b.commit_config(st, nop("MAINTAINER " + st.author))


def _command_argv(st: StageState, ins: I.Command) -> list[str]:
    return list(ins.argv) if ins.argv is not None else st.shell + [ins.shell]


def dispatch_cmd(b: "Builder", st: StageState, ins: I.Command) -> None:
    argv = _command_argv(st, ins)
    st.config["Cmd"] = argv
    st.cmd_set = True
    b.commit_config(st, nop("CMD " + json.dumps(argv)))


def dispatch_entrypoint(b: "Builder", st: StageState, ins: I.Command) -> None:
    argv = _command_argv(st, ins)
    st.config["Entrypoint"] = argv
    if not st.cmd_set:  # an inherited CMD was meant for the old entrypoint
        st.config["Cmd"] = None
    b.commit_config(st, nop("ENTRYPOINT " + json.dumps(argv)))


def expand_ports(word: str) -> list[str]:
    """``80``, ``80/udp``, ``8000-8002/tcp`` → docker's ``80/tcp`` keys."""
    m = PORT_RE.match(word)
    if not m:
        raise InvalidArgument(f"invalid port {word!r}: want port[-port][/tcp|udp|sctp]")
    lo, hi = int(m.group(1)), int(m.group(2) or m.group(1))
    proto = (m.group(3) or "tcp").lower()
    if not (0 < lo <= hi <= 65535):
        raise InvalidArgument(f"invalid port range {word!r}")
    return [f"{p}/{proto}" for p in range(lo, hi + 1)]


def dispatch_expose(b: "Builder", st: StageState, ins: I.Words) -> None:
    env = st.substitution_env()
    ports = dict(st.config.get("ExposedPorts") or {})
    added = []
    for w in ins.words:
        for word in b.expand_words(w, env):
            for p in expand_ports(word):
                ports[p] = {}
                added.append(p)
    st.config["ExposedPorts"] = ports
    b.commit_config(st, nop("EXPOSE " + " ".join(added)))


def dispatch_volume(b: "Builder", st: StageState, ins: I.Words) -> None:
    env = st.substitution_env()
    vols = dict(st.config.get("Volumes") or {})
    paths = [b.expand(w, env) for w in ins.words]
    for p in paths:
        if not p.strip():
            raise InvalidArgument("VOLUME specified can not be an empty string")
        vols[p] = {}
    st.config["Volumes"] = vols
    b.commit_config(st, nop("VOLUME " + json.dumps(paths)))


def dispatch_user(b: "Builder", st: StageState, ins: I.Words) -> None:
    st.config["User"] = b.expand(ins.words[0], st.substitution_env())
    b.commit_config(st, nop("USER " + st.config["User"]))


def dispatch_stopsignal(b: "Builder", st: StageState, ins: I.Words) -> None:
    sig = b.expand(ins.words[0], st.substitution_env())
    if not re.match(r"^(SIG)?[A-Z0-9+-]+$|^\d+$", sig):
        raise InvalidArgument(f"invalid STOPSIGNAL {sig!r}")
    st.config["StopSignal"] = sig
    b.commit_config(st, nop("STOPSIGNAL " + sig))


def dispatch_shell(b: "Builder", st: StageState, ins: I.Words) -> None:
    st.config["Shell"] = list(ins.words)
    b.commit_config(st, nop("SHELL " + json.dumps(ins.words)))


def dispatch_workdir(b: "Builder", st: StageState, ins: I.Words) -> None:
    path = b.expand(ins.words[0], st.substitution_env())
    if not path.startswith("/"):
        path = posixpath.join(st.config.get("WorkingDir") or "/", path)
    st.config["WorkingDir"] = posixpath.normpath(path)
    b.workdir(st, st.config["WorkingDir"])


def dispatch_arg(b: "Builder", st: StageState, ins: I.Arg) -> None:
    env = st.substitution_env()
    for name, default in ins.args:
        st.args[name] = b.arg_value(name, None if default is None else b.expand(default, env))
    text = " ".join(n if d is None else f"{n}={d}" for n, d in ins.args)
    b.commit_config(st, nop("ARG " + text))


def dispatch_onbuild(b: "Builder", st: StageState, ins: I.Onbuild) -> None:
    word, _, rest = ins.trigger.partition(" ")
    trigger = word.upper() + " " + rest.strip()
    st.config["OnBuild"] = list(st.config.get("OnBuild") or []) + [trigger]
    b.commit_config(st, nop("ONBUILD " + trigger))


def parse_duration(text: str) -> int:
    """Go duration (``30s``, ``1m30s``) → nanoseconds."""
    total = 0
    for num, unit in re.findall(r"(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)", text):
        total += int(float(num) * DURATION_UNITS[unit])
    return total


def healthcheck_config(ins: I.Healthcheck) -> dict:
    """The image config's ``Healthcheck`` for a HEALTHCHECK instruction (durations in ns)."""
    hc: dict = {"Test": list(ins.test)}
    names = {"interval": "Interval", "timeout": "Timeout", "start-period": "StartPeriod",
             "start-interval": "StartInterval"}
    for flag, key in names.items():
        if flag in ins.options:
            hc[key] = parse_duration(ins.options[flag])
    if "retries" in ins.options:
        hc["Retries"] = int(ins.options["retries"])
    return hc


def dispatch_healthcheck(b: "Builder", st: StageState, ins: I.Healthcheck) -> None:
    hc = healthcheck_config(ins)
    st.config["Healthcheck"] = hc
    b.commit_config(st, nop("HEALTHCHECK " + json.dumps(hc)))


def dispatch_run(b: "Builder", st: StageState, ins: I.Command) -> None:
    b.run(st, ins)


def dispatch_copy(b: "Builder", st: StageState, ins: I.Copy) -> None:
    b.copy(st, ins)


TABLE: dict[str, Handler] = {
    "env": dispatch_env, "label": dispatch_label, "maintainer": dispatch_maintainer,
    "cmd": dispatch_cmd, "entrypoint": dispatch_entrypoint, "expose": dispatch_expose,
    "volume": dispatch_volume, "user": dispatch_user, "stopsignal": dispatch_stopsignal,
    "shell": dispatch_shell, "workdir": dispatch_workdir, "arg": dispatch_arg,
    "onbuild": dispatch_onbuild, "healthcheck": dispatch_healthcheck,
    "run": dispatch_run, "copy": dispatch_copy, "add": dispatch_copy,
}
