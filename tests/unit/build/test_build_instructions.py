"""Typed instructions and their syntax errors (file:line, what is wrong)."""
import pytest

from dockyard.build import instructions as I, parser as P


def stages(text):
    return I.parse_stages(P.parse(text))


def error_of(text):
    with pytest.raises(P.DockerfileError) as exc:
        stages(text)
    return str(exc.value)


def test_stages_and_meta_args():
    meta, st = stages("ARG V=1\nFROM busybox:$V AS Base\nRUN x\nFROM base\nCOPY --from=base /a /b\n")
    assert meta[0].args == [("V", "1")]
    assert [s.name for s in st] == ["base", ""]
    assert st[0].base.image == "busybox:$V"
    copy = st[1].instructions[0]
    assert copy.flags == {"from": "base"} and copy.sources == ["/a"] and copy.dest == "/b"


def test_every_instruction_parses():
    text = """FROM --platform=linux/amd64 scratch AS s
RUN ["echo", "hi"]
RUN echo hi
CMD ["a"]
LABEL a=b "c d"="e f"
MAINTAINER Me <me@example.com>
EXPOSE 80 443/udp
ENV A=1 B="two words"
ENV LEGACY value with spaces
ADD --chown=1:2 --chmod=640 a.tar /x/
COPY --link a b /c/
ENTRYPOINT /bin/sh
VOLUME ["/data"]
VOLUME /a /b
USER nobody
WORKDIR /some dir
ARG X Y=2
ONBUILD RUN echo trigger
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=5s --retries=3 CMD curl -f http://localhost/
HEALTHCHECK NONE
SHELL ["/bin/bash", "-c"]
"""
    _, st = stages(text)
    ins = st[0].instructions
    assert st[0].base.platform == "linux/amd64"
    assert ins[0].argv == ["echo", "hi"] and ins[1].shell == "echo hi"
    assert ins[3].pairs == [("a", "b"), ('"c d"', '"e f"')]
    assert ins[4].words == ["Me <me@example.com>"]
    assert ins[7].pairs == [("LEGACY", "value with spaces")]
    assert ins[8].flags == {"chown": "1:2", "chmod": "640"}
    assert ins[14].words == ["/some dir"]
    assert ins[15].args == [("X", None), ("Y", "2")]
    assert ins[18].test == ["CMD-SHELL", "curl -f http://localhost/"]
    assert ins[18].options == {"interval": "5s", "retries": "3"}
    assert ins[19].test == ["NONE"]
    assert ins[20].words == ["/bin/bash", "-c"]


@pytest.mark.parametrize("text,msg", [
    ("FROM a\nFOO bar\n", "Dockerfile:2: unknown instruction: FOO"),
    ("FROM a\nCMD [\"a\", 'b']\n", "Dockerfile:2: invalid JSON form"),
    ("FROM a\nARG 1x=2\n", "Dockerfile:2: invalid ARG '1x=2'"),
    ("FROM a\nARG\n", "Dockerfile:2: ARG requires at least one argument"),
    ("RUN x\nFROM a\n", "Dockerfile:1: RUN before the first FROM"),
    ("FROM a b\n", "Dockerfile:1: FROM requires either one argument"),
    ("FROM a\nCOPY x\n", "Dockerfile:2: COPY requires at least two arguments"),
    ("FROM a\nCOPY --chmod=abc x y\n", "Dockerfile:2: invalid --chmod=abc"),
    ("FROM a\nCOPY --bogus x y\n", "Dockerfile:2: unknown flag --bogus for COPY"),
    ("FROM a\nSHELL /bin/sh\n", "Dockerfile:2: SHELL requires the JSON form"),
    ("FROM a\nONBUILD FROM x\n", "Dockerfile:2: FROM isn't allowed as an ONBUILD trigger"),
    ("FROM a\nLABEL a\n", "Dockerfile:2: LABEL a needs a value"),
    ("FROM a\nENV a=1 b\n", "Dockerfile:2: ENV syntax is key=value"),
    ("FROM a\nHEALTHCHECK --interval=5 CMD x\n", "Dockerfile:2: invalid --interval=5"),
    ("FROM a\nRUN --mount=type=cache,target=/x make\n", "needs BuildKit"),
    ("FROM a AS x\nFROM b AS x\n", "Dockerfile:2: duplicate stage name 'x'"),
    ("# just a comment\n", "no FROM instruction"),
])
def test_errors(text, msg):
    assert msg in error_of(text)


def test_all_errors_reported_together():
    err = error_of("FROM a\nFOO\nBAR\n")
    assert err.splitlines() == ["Dockerfile:2: unknown instruction: FOO",
                                "Dockerfile:3: unknown instruction: BAR"]
