"""Compatibility tier: real clients (docker CLI, docker-py, compose) against dockyard."""
import pytest


@pytest.fixture(scope="module")
def dockerpy(daemon):
    """docker-py's high-level client, configured like a user would: DOCKER_HOST."""
    import docker
    client = docker.DockerClient(base_url=daemon.host, timeout=120)
    try:
        yield client
    finally:
        client.close()

