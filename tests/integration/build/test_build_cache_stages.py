"""Multi-stage builds, .dockerignore, the cache (hits, misses, --explain-cache,
restart survival) and resuming after a failed step."""
import os

from dockyard.errors import NotFound as NotFoundError

import pytest

from tests.integration.build.conftest import read_in_image

pytestmark = pytest.mark.root


def test_multi_stage_target_and_copy_from(build, engine):
    df = ("FROM busybox AS builder\nRUN mkdir -p /out && echo built > /out/artifact && ln -s /out/artifact /out/link\n"
          "FROM builder AS tester\nRUN echo tested > /out/test\n"
          "FROM scratch\nCOPY --from=builder /out/ /app/\nCOPY --from=busybox /bin/busybox /bin/\n"
          "COPY --from=0 /out/link /linked\n")
    r = build(df, tags=["ms:final"])
    assert r.error is None, r.error
    assert read_in_image(engine, r.image_id, "/app/artifact") == b"built\n"
    assert os.readlink(_layer_path(engine, r.image_id, "/app/link")) == "/out/artifact"
    assert read_in_image(engine, r.image_id, "/linked") == b"built\n"  # a top-level source link is followed
    assert len(read_in_image(engine, r.image_id, "/bin/busybox")) > 100000
    t = build(df, target="tester", tags=["ms:tester"])
    assert t.error is None, t.error
    assert read_in_image(engine, t.image_id, "/out/test") == b"tested\n"
    assert "Step 4/4" in t.text and "Using cache" in t.text


def _layer_path(engine, image_id, path):
    for chain in reversed(engine.images.rootfs_layers(image_id)):
        p = os.path.join(engine.snapshots.dir(chain), path.lstrip("/"))
        if os.path.lexists(p):
            return p
    raise FileNotFoundError(path)


def test_unknown_target_and_stage(build):
    r = build("FROM busybox AS a\nRUN true\n", target="nope")
    assert "failed to reach build target nope" in str(r.error)
    r = build("FROM busybox\nCOPY --from=nostage /x /y\n")
    assert "Dockerfile:2:" in str(r.error) and "nostage" in str(r.error)


@pytest.mark.parametrize("via_dir", [False, True], ids=["tar-context", "dir-context"])
def test_dockerignore(build, engine, via_dir):
    files = {".dockerignore": "**/*.log\nsecret\nDockerfile\ndocs\n!docs/keep.md\n",
             "app/a.log": "l", "app/a.js": "js", "secret": "s", "docs/x.md": "x", "docs/keep.md": "k"}
    r = build("FROM busybox\nCOPY . /ctx/\n", files, via_dir=via_dir)
    assert r.error is None, r.error
    assert read_in_image(engine, r.image_id, "/ctx/app/a.js") == b"js"
    assert read_in_image(engine, r.image_id, "/ctx/docs/keep.md") == b"k"
    for gone in ("/ctx/app/a.log", "/ctx/secret", "/ctx/docs/x.md", "/ctx/Dockerfile"):
        with pytest.raises(FileNotFoundError):
            read_in_image(engine, r.image_id, gone)
    r = build("FROM busybox\nCOPY secret /s\n", files, via_dir=via_dir)
    assert "not found in the build context (or excluded by .dockerignore)" in str(r.error)


def test_cache_hits_misses_and_explain(build, engine):
    df = "FROM busybox\nARG V=1\nCOPY src /src\nRUN cat /src/a > /copy\nCMD [\"x\"]\n"
    first = build(df, {"src/a": "one", "src/b": "b"}, explain_cache=True)
    assert first.error is None, first.error
    again = build(df, explain_cache=True)
    assert again.image_id == first.image_id and again.text.count("Using cache") == 4
    changed = build(df, {"src/a": "two"}, explain_cache=True)
    assert changed.image_id != first.image_id
    text = changed.text
    assert text.count("Using cache") == 1  # ARG
    assert "cache miss: file src/a changed" in text
    assert "cache miss: parent image changed" in text and "(step 3 was rebuilt)" in text
    assert read_in_image(engine, changed.image_id, "/copy") == b"two"
    arg = build(df, buildargs={"V": "2"}, explain_cache=True)
    assert "cache miss: build arg V changed: 1 -> 2" in arg.text
    nocache = build(df, nocache=True)
    assert "Using cache" not in nocache.text


def test_cache_survives_engine_restart(build, engine):
    from dockyard.build.state import BuildOptions
    from dockyard.engine import Engine
    df = "FROM busybox\nRUN echo persisted > /p\n"
    first = build(df)
    assert first.error is None, first.error
    other = Engine(engine.data_root, engine.exec_root)  # a new daemon process on the same root
    msgs = []
    iid = other.builds.build(str(build.ctx), BuildOptions(), msgs.append)
    assert iid == first.image_id
    assert any(m.get("stream") == " ---> Using cache\n" for m in msgs)


def test_failed_step_stops_and_resume_uses_cache(build, engine):
    df = "FROM busybox\nRUN echo step-one > /one\nRUN echo failing-output; exit 3\nCMD [\"x\"]\n"
    r = build(df, tags=["resume:1"])
    assert r.error is not None and r.error.code == 3
    assert str(r.error) == "The command '/bin/sh -c echo failing-output; exit 3' returned a non-zero code: 3"
    assert "failing-output" in r.text and "Step 4/4" not in r.text
    from dockyard.errors import NotFound
    with pytest.raises(NotFound):
        engine.images.get("resume:1")
    fixed = build(df.replace("exit 3", "exit 0"), tags=["resume:1"])
    assert fixed.error is None, fixed.error
    assert fixed.text.split("Step 3/4")[0].count("Using cache") == 1
    assert read_in_image(engine, fixed.image_id, "/one") == b"step-one\n"


def test_labels_option_and_quiet(build, engine):
    r = build("FROM busybox\n", labels={"a": "b c"}, quiet=True)
    assert r.error is None, r.error
    assert engine.images.get(r.image_id).config["config"]["Labels"] == {"a": "b c"}
    streams = [m for m in r.messages if "stream" in m]
    assert streams == [{"stream": r.image_id + "\n"}]


def test_from_pulls_a_missing_image_from_a_registry(build, engine, tmp_path):
    from tests.integration.registry.regserver import Registry
    reg = Registry(str(tmp_path / "registry"))
    try:
        ref = f"{reg.host}/bb:pushed"
        engine.images.tag("busybox", ref)
        msgs = list(engine.registry.push_stream(ref))
        assert not any("error" in m for m in msgs), msgs
        engine.images.untag(ref)
        with pytest.raises(NotFoundError):
            engine.images.get(ref)
        r = build(f"FROM {ref}\nRUN echo pulled > /p\n")
        assert r.error is None, r.error
        assert read_in_image(engine, r.image_id, "/p") == b"pulled\n"
        assert engine.images.get(ref)
    finally:
        reg.stop()
