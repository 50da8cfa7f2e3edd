"""docker-py 7.x high-level API against dockyard: the container scenarios of docker-py's
own integration suite (run, logs, attach, exec, top, stats, archive, diff, commit, wait,
kill, restart, rename, prune)."""
import io
import tarfile
import time
import uuid

import pytest

pytestmark = pytest.mark.root


@pytest.fixture
def tmp_containers(dockerpy):
    made = []
    yield made
    for c in made:
        try:
            dockerpy.containers.get(c).remove(force=True)
        except Exception:
            pass


def _name() -> str:
    return "dypy-" + uuid.uuid4().hex[:8]


def test_run_returns_output_and_removes(dockerpy):
    assert dockerpy.containers.run("busybox", "echo hello", remove=True) == b"hello\n"


def test_run_output_is_complete_every_time(dockerpy):
    """docker-py reads the follow stream only after removing the container: every line
    must still be there, once (a race lost or doubled it about one run in twenty)."""
    outs = [dockerpy.containers.run("busybox", "echo hello", remove=True) for _ in range(40)]
    assert outs == [b"hello\n"] * 40


def test_run_nonzero_exit_raises_container_error(dockerpy):
    import docker
    with pytest.raises(docker.errors.ContainerError) as e:
        dockerpy.containers.run("busybox", "sh -c 'echo bad >&2; exit 3'", remove=True)
    assert e.value.exit_status == 3


def test_run_unknown_image_is_image_not_found(dockerpy):
    import docker
    with pytest.raises(docker.errors.ImageNotFound):
        dockerpy.containers.create("no-such-image-here:1")


def test_detached_lifecycle(dockerpy, tmp_containers):
    name = _name()
    c = dockerpy.containers.run("busybox", "sh -c 'echo started; sleep 60'", detach=True,
                                name=name, labels={"suite": "dypy"})
    tmp_containers.append(c.id)
    c.reload()
    assert c.status == "running" and c.name == name
    assert c.labels == {"suite": "dypy"}
    assert any(x.id == c.id for x in dockerpy.containers.list(filters={"label": "suite=dypy"}))
    deadline = time.monotonic() + 5
    while b"started" not in c.logs() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert c.logs() == b"started\n"
    top = c.top()
    assert "PID" in top["Titles"] and any("sleep" in " ".join(p) for p in top["Processes"])
    stats = c.stats(stream=False)
    assert stats["memory_stats"].get("usage", 0) > 0
    c.rename(name + "-x")
    c.reload()
    assert c.name == name + "-x"
    c.kill()
    assert c.wait()["StatusCode"] == 137
    c.restart(timeout=1)
    c.reload()
    assert c.status == "running"
    c.stop(timeout=1)
    c.reload()
    assert c.status == "exited"


def test_exec_run(dockerpy, tmp_containers):
    c = dockerpy.containers.run("busybox", "sleep 60", detach=True)
    tmp_containers.append(c.id)
    code, out = c.exec_run("sh -c 'echo $FOO; exit 4'", environment={"FOO": "bar"})
    assert (code, out) == (4, b"bar\n")
    code, out = c.exec_run("pwd", workdir="/tmp")
    assert out == b"/tmp\n"
    code, out = c.exec_run("id -u", user="65534")
    assert out.strip() == b"65534"


def test_attach_stream(dockerpy, tmp_containers):
    c = dockerpy.containers.create("busybox", "sh -c 'echo one; echo two >&2'")
    tmp_containers.append(c.id)
    stream = c.attach(stream=True, stdout=True, stderr=True, logs=True)
    c.start()
    out = b"".join(stream)
    assert b"one\n" in out and b"two\n" in out


def test_archive_put_get_and_diff(dockerpy, tmp_containers):
    c = dockerpy.containers.run("busybox", "sleep 60", detach=True)
    tmp_containers.append(c.id)
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tf:
        data = b"archive-data\n"
        ti = tarfile.TarInfo("hello.txt")
        ti.size = len(data)
        tf.addfile(ti, io.BytesIO(data))
    assert c.put_archive("/tmp", buf.getvalue())
    assert c.exec_run("cat /tmp/hello.txt").output == b"archive-data\n"
    bits, stat = c.get_archive("/tmp/hello.txt")
    raw = b"".join(bits)
    with tarfile.open(fileobj=io.BytesIO(raw)) as tf:
        assert tf.extractfile("hello.txt").read() == b"archive-data\n"
    assert stat["name"] == "hello.txt" and stat["size"] == 13
    changes = {(d["Path"], d["Kind"]) for d in c.diff()}
    assert ("/tmp/hello.txt", 1) in changes


def test_commit_makes_a_runnable_image(dockerpy, tmp_containers):
    c = dockerpy.containers.run("busybox", "sh -c 'echo committed > /marker'", detach=True)
    tmp_containers.append(c.id)
    c.wait()
    img = c.commit(repository="dypy-committed", tag="1", changes=["CMD cat /marker"])
    try:
        assert dockerpy.containers.run(img.id, remove=True) == b"committed\n"
    finally:
        dockerpy.images.remove(img.id, force=True)


def test_prune_removes_stopped(dockerpy):
    c = dockerpy.containers.run("busybox", "true", detach=True)
    c.wait()
    res = dockerpy.containers.prune()
    assert c.id in (res.get("ContainersDeleted") or [])


def test_events_report_container_lifecycle(dockerpy):
    since = time.time() - 1
    c = dockerpy.containers.run("busybox", "true", detach=True)
    c.wait()
    c.remove()
    until = time.time() + 1
    actions = [e["Action"] for e in dockerpy.events(since=since, until=until, decode=True,
                                                    filters={"container": c.id})]
    for a in ("create", "start", "die", "destroy"):
        assert a in actions, actions


def test_update(dockerpy, tmp_containers):
    """docker-py's Container.update: new limits and restart policy, docker's warnings."""
    import docker
    c = dockerpy.containers.run("busybox", "sleep 1000", detach=True, name=_name(),
                                mem_limit="64m")
    tmp_containers.append(c.id)
    out = c.update(mem_limit="96m", memswap_limit="192m", cpu_quota=50000,
                   restart_policy={"Name": "on-failure", "MaximumRetryCount": 2})
    assert out == {"Warnings": []}
    c.reload()
    hc = c.attrs["HostConfig"]
    assert (hc["Memory"], hc["MemorySwap"], hc["CpuQuota"]) == (96 << 20, 192 << 20, 50000)
    assert hc["RestartPolicy"] == {"Name": "on-failure", "MaximumRetryCount": 2}
    code, limit = c.exec_run("cat /sys/fs/cgroup/memory/memory.limit_in_bytes")
    assert (code, limit.strip()) == (0, str(96 << 20).encode())
    with pytest.raises(docker.errors.APIError, match="Memory limit should be smaller"):
        c.update(mem_limit="300m")
