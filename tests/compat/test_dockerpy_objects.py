"""docker-py 7.x: images, build, networks and volumes against dockyard."""
import io
import uuid

import pytest

pytestmark = pytest.mark.root


def _n(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def test_images_list_get_tag_remove(dockerpy):
    img = dockerpy.images.get("busybox")
    assert "busybox:latest" in img.tags
    tag = _n("dypy-tag")
    assert img.tag(tag, "v1")
    assert f"{tag}:v1" in dockerpy.images.get(img.id).tags
    assert any(f"{tag}:v1" in i.tags for i in dockerpy.images.list())
    dockerpy.images.remove(f"{tag}:v1")
    assert f"{tag}:v1" not in dockerpy.images.get(img.id).tags
    assert img.history()[0]["Id"].startswith("sha256:")


def test_build_from_fileobj(dockerpy):
    tag = _n("dypy-build")
    df = io.BytesIO(b"FROM busybox\nRUN echo built > /built\nCMD [\"cat\", \"/built\"]\n")
    img, logs = dockerpy.images.build(fileobj=df, tag=tag, rm=True)
    try:
        assert any("Successfully built" in (l.get("stream") or "") for l in logs)
        assert dockerpy.containers.run(tag, remove=True) == b"built\n"
    finally:
        dockerpy.images.remove(tag, force=True)


def test_save_and_load_roundtrip(dockerpy):
    img = dockerpy.images.get("busybox")
    data = b"".join(img.save(named=True))
    tag = _n("dypy-load")
    img.tag(tag)
    dockerpy.images.remove(tag)
    loaded = dockerpy.images.load(data)
    assert loaded[0].id == img.id


def test_networks_connect_and_resolve(dockerpy):
    net = dockerpy.networks.create(_n("dypy-net"), driver="bridge")
    server = None
    try:
        server = dockerpy.containers.run("busybox", "httpd -f -p 8080", detach=True,
                                         name=_n("dypy-srv"), network=net.name)
        net.reload()
        assert server.id in [c.id for c in net.containers]
        out = dockerpy.containers.run(
            "busybox", f"sh -c 'for i in 1 2 3 4 5; do nslookup {server.name} >/dev/null && exit 0; sleep 0.2; done; exit 1'",
            network=net.name, remove=True)
        assert out == b""
    finally:
        if server:
            server.remove(force=True)
        net.remove()
    assert net.name not in [n.name for n in dockerpy.networks.list()]


def test_volumes_create_use_remove(dockerpy):
    name = _n("dypy-vol")
    vol = dockerpy.volumes.create(name, labels={"k": "v"})
    try:
        assert vol.attrs["Driver"] == "local" and vol.attrs["Labels"] == {"k": "v"}
        dockerpy.containers.run("busybox", "sh -c 'echo kept > /v/f'",
                                volumes={name: {"bind": "/v", "mode": "rw"}}, remove=True)
        out = dockerpy.containers.run("busybox", "cat /v/f",
                                      volumes={name: {"bind": "/v", "mode": "ro"}}, remove=True)
        assert out == b"kept\n"
        assert name in [v.name for v in dockerpy.volumes.list()]
    finally:
        vol.remove()
    assert name not in [v.name for v in dockerpy.volumes.list()]


def test_push_and_pull_through_a_local_registry(dockerpy, tmp_path):
    from tests.integration.registry.regserver import Registry
    reg = Registry(str(tmp_path / "reg"))
    repo = f"{reg.host}/dypy/busybox"
    try:
        dockerpy.images.get("busybox").tag(repo, "1")
        out = dockerpy.images.push(repo, tag="1", stream=True, decode=True)
        assert any("digest: sha256:" in (m.get("status") or "") for m in out)
        dockerpy.images.remove(f"{repo}:1")
        img = dockerpy.images.pull(repo, tag="1")
        assert f"{repo}:1" in img.tags
        assert dockerpy.containers.run(f"{repo}:1", "echo pulled", remove=True) == b"pulled\n"
        dockerpy.images.remove(f"{repo}:1")
    finally:
        reg.stop()
