"""Hostile input to the parsers: whatever the bytes, the answer is a result or a
DockyardError with a message, never another exception and never a hang."""
import io
import json
import tarfile

from hypothesis import HealthCheck, given, settings, strategies as st

from dockyard.build import dockerignore, instructions, parser, shell_lex
from dockyard.errors import DockyardError
from dockyard.oci import reference
from dockyard.registry.auth import parse_challenges

FAST = settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
KEYWORDS = ["FROM", "RUN", "CMD", "LABEL", "MAINTAINER", "EXPOSE", "ENV", "ADD", "COPY",
            "ENTRYPOINT", "VOLUME", "USER", "WORKDIR", "ARG", "ONBUILD", "STOPSIGNAL",
            "HEALTHCHECK", "SHELL", "# escape=`", "# syntax=x", "<<EOF", "EOF", "\\", "${A:-b}",
            "$A", '["a",', '"]', "--from=x", "--chown=1:1", "AS", "#", "\n", " ", "\t"]


def dockerfile_text():
    return st.lists(st.one_of(st.sampled_from(KEYWORDS), st.text(max_size=12)),
                    max_size=40).map(" ".join)


@FAST
@given(dockerfile_text())
def test_dockerfile_parser_never_crashes(text):
    try:
        df = parser.parse(text)
        instructions.parse_stages(df)
    except DockyardError as e:
        assert str(e)


@FAST
@given(st.text(max_size=80), st.dictionaries(st.text(max_size=5), st.text(max_size=5), max_size=4))
def test_variable_expansion_never_crashes(word, env):
    try:
        shell_lex.expand(word, env)
        shell_lex.expand_words(word, env)
    except DockyardError as e:
        assert str(e)


@FAST
@given(st.lists(st.text(max_size=20), max_size=10), st.text(max_size=30))
def test_dockerignore_never_crashes(patterns, path):
    try:
        m = dockerignore.Matcher(dockerignore.read_patterns("\n".join(patterns)))
        m.matches(path) if hasattr(m, "matches") else None
    except DockyardError as e:
        assert str(e)


@FAST
@given(st.text(max_size=120))
def test_reference_parser_never_crashes(text):
    try:
        r = reference.parse(text)
        assert str(r)
    except DockyardError as e:
        assert "invalid reference format" in str(e)


@FAST
@given(st.text(max_size=200))
def test_www_authenticate_parser_never_crashes(header):
    parse_challenges(header)


def _tar_bytes(members) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tf:
        for name, data in members:
            ti = tarfile.TarInfo(name)
            ti.size = len(data)
            tf.addfile(ti, io.BytesIO(data))
    return buf.getvalue()


@settings(max_examples=120, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.binary(max_size=4096), st.integers(min_value=0, max_value=4096))
def test_layer_apply_of_garbled_tar(tmp_path_factory, noise, cut):
    """A valid tar with a byte flipped or cut short: applied, or refused with a message."""
    from dockyard.image.layer import apply_tar
    good = _tar_bytes([("etc/a", b"x" * 100), ("b/c", noise[:200])])
    data = bytearray(good[:cut] if cut < len(good) else good)
    if noise and data:
        data[len(noise) % len(data)] ^= noise[0] or 1
    root = tmp_path_factory.mktemp("apply")
    try:
        apply_tar(io.BytesIO(bytes(data)), str(root))
    except DockyardError as e:
        assert str(e)


@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=10),
                    lambda c: st.lists(c, max_size=4) | st.dictionaries(st.text(max_size=8), c, max_size=4),
                    max_leaves=20))
def test_docker_archive_manifest_garbage(tmp_path_factory, manifest):
    """load of an archive whose manifest.json is arbitrary JSON."""
    from dockyard.image import archive
    from dockyard.store.content import ContentStore
    data = _tar_bytes([("manifest.json", json.dumps(manifest).encode())])
    root = tmp_path_factory.mktemp("content")
    content = ContentStore(str(root))
    try:
        arc = archive.read_archive(io.BytesIO(data), content, _Lease(), "fuzz.tar")
        archive.load_items(arc, content, _Lease())
    except DockyardError as e:
        assert str(e)


class _Lease:
    """Collects what the archive reader stores (the image service removes it on failure)."""

    def __init__(self):
        self.blobs = []

    def __getattr__(self, name):
        return lambda *a, **k: None
