"""Every instruction, built for real on busybox (RUN in a real container)."""
import io
import tarfile

import pytest

from tests.integration.build.conftest import config_of, read_in_image, stat_in_image

pytestmark = pytest.mark.root


def tar_bytes(files: dict) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for name, data in files.items():
            ti = tarfile.TarInfo(name)
            ti.size, ti.mode = len(data), 0o640
            tar.addfile(ti, io.BytesIO(data))
    return buf.getvalue()


DOCKERFILE = """# syntax=docker/dockerfile:1
ARG BASE=busybox
FROM $BASE AS base
ARG WHO=world
ENV GREETING="hello ${WHO}" EMPTY=
LABEL org.example.who=$WHO "spaced key"="a b"
MAINTAINER Someone <someone@example.com>
EXPOSE 80 53/udp 8000-8001
VOLUME ["/data"]
WORKDIR /srv/app
COPY --chown=1000:1000 --chmod=640 app/ ./
ADD bundle.tar.gz /opt/bundle/
RUN echo "$GREETING from $(pwd) as $(id -u)" > /greeting && \\
    echo run-output-line
RUN <<EOF
echo heredoc-ran > /heredoc
EOF
COPY <<EOT /etc/motd
greeting=${GREETING}
EOT
USER 1000:1000
SHELL ["/bin/sh", "-ec"]
ONBUILD RUN echo child
STOPSIGNAL SIGINT
HEALTHCHECK --interval=30s --timeout=5s --retries=2 CMD wget -q localhost
ENTRYPOINT ["/bin/sh", "-c"]
CMD ["echo hi"]
"""


@pytest.mark.parametrize("via_dir", [False, True], ids=["tar-context", "dir-context"])
def test_every_instruction(build, engine, via_dir):
    files = {"app/main.js": "console.log(1)\n", "app/lib/util.js": "x\n",
             "bundle.tar.gz": tar_bytes({"inner/file.txt": b"inside\n"})}
    # nocache: both variants share the module's engine, and when both runs pack
    # bundle.tar.gz within one second (same gzip header) the second would be all cached
    r = build(DOCKERFILE, files, via_dir=via_dir, buildargs={"WHO": "dockyard"}, tags=["every:1"],
              nocache=True)
    assert r.error is None, r.error
    assert "Step 1/20 : FROM $BASE AS base" in r.text
    assert "run-output-line" in r.text and " ---> Running in " in r.text
    assert "parser directive 'syntax=docker/dockerfile:1' accepted and ignored" in r.text
    doc = config_of(engine, r.image_id)
    cfg = doc["config"]
    assert "GREETING=hello dockyard" in cfg["Env"] and "EMPTY=" in cfg["Env"]
    assert cfg["Labels"] == {"org.example.who": "dockyard", "spaced key": "a b"}
    assert set(cfg["ExposedPorts"]) == {"80/tcp", "53/udp", "8000/tcp", "8001/tcp"}
    assert cfg["Volumes"] == {"/data": {}}
    assert cfg["WorkingDir"] == "/srv/app" and cfg["User"] == "1000:1000"
    assert cfg["Shell"] == ["/bin/sh", "-ec"] and cfg["OnBuild"] == ["RUN echo child"]
    assert cfg["StopSignal"] == "SIGINT"
    assert cfg["Healthcheck"] == {"Test": ["CMD-SHELL", "wget -q localhost"], "Interval": 30 * 10**9,
                                  "Timeout": 5 * 10**9, "Retries": 2}
    assert cfg["Entrypoint"] == ["/bin/sh", "-c"] and cfg["Cmd"] == ["echo hi"]
    assert any(h.get("author") == "Someone <someone@example.com>" for h in doc["history"])
    assert read_in_image(engine, r.image_id, "/greeting") == b"hello dockyard from /srv/app as 0\n"
    assert read_in_image(engine, r.image_id, "/heredoc") == b"heredoc-ran\n"
    assert read_in_image(engine, r.image_id, "/etc/motd") == b"greeting=hello dockyard\n"
    assert read_in_image(engine, r.image_id, "/opt/bundle/inner/file.txt") == b"inside\n"
    st = stat_in_image(engine, r.image_id, "/srv/app/lib/util.js")
    assert (st.st_uid, st.st_gid, st.st_mode & 0o777) == (1000, 1000, 0o640)
    assert engine.images.get("every:1").id == r.image_id


def test_onbuild_triggers_run_in_child(build, engine):
    parent = build("FROM busybox\nONBUILD RUN echo triggered > /t\n", tags=["onb:1"])
    assert parent.error is None, parent.error
    child = build("FROM onb:1\nCMD [\"x\"]\n")
    assert child.error is None, child.error
    assert "# Executing 1 build trigger" in child.text
    assert read_in_image(engine, child.image_id, "/t") == b"triggered\n"
    assert not config_of(engine, child.image_id)["config"].get("OnBuild")


def test_config_only_steps_add_no_layers(build, engine):
    r = build("FROM busybox\nENV A=1\nLABEL b=2\nEXPOSE 1\nWORKDIR /tmp\nCMD x\nUSER 5\n")
    assert r.error is None, r.error
    base = engine.images.get("busybox")
    assert engine.images.rootfs_layers(r.image_id) == engine.images.rootfs_layers(base.id)
    assert "Running in" not in r.text


def test_workdir_on_missing_dir_makes_it(build, engine):
    r = build("FROM busybox\nWORKDIR /new/dir\nRUN pwd > /where\n")
    assert r.error is None, r.error
    assert read_in_image(engine, r.image_id, "/where") == b"/new/dir\n"


def test_copy_into_symlinked_dir_stays_in_rootfs(build, engine, tmp_path):
    r = build("FROM busybox\nRUN ln -s / /up && ln -s ../../../../../../tmp /rel\n"
              "COPY f /up/etc/f1\nCOPY f /rel/f2\n", {"f": "x"})
    assert r.error is None, r.error
    assert read_in_image(engine, r.image_id, "/etc/f1") == b"x"
    assert read_in_image(engine, r.image_id, "/tmp/f2") == b"x"


def test_build_args_and_proxy_args(build, engine):
    r = build("FROM busybox\nARG V\nRUN echo \"$V $http_proxy\" > /v\n",
              buildargs={"V": "1", "http_proxy": "http://p", "UNUSED": "x"})
    assert r.error is None, r.error
    assert read_in_image(engine, r.image_id, "/v") == b"1 http://p\n"
    assert "[Warning] One or more build-args [UNUSED] were not consumed" in r.text
    assert "V=1" not in " ".join(config_of(engine, r.image_id)["config"].get("Env") or [])
