"""docker-py 7.x: negotiation and system endpoints."""


def test_ping_and_version(dockerpy):
    assert dockerpy.ping() is True
    v = dockerpy.version()
    assert v["ApiVersion"] == "1.43" and v["Os"] == "linux"


def test_from_env_uses_docker_host(daemon, monkeypatch):
    import docker
    monkeypatch.setenv("DOCKER_HOST", daemon.host)
    c = docker.from_env()
    try:
        assert c.api.api_version == "1.43"
        assert c.info()["OSType"] == "linux"
    finally:
        c.close()
