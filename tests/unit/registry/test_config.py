"""docker's config.json credentials, X-Registry-Auth, certs.d."""
import base64
import json

import pytest

from dockyard.errors import InvalidArgument
from dockyard.registry import config


@pytest.fixture(autouse=True)
def docker_config(tmp_path, monkeypatch):
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path / "docker"))
    return tmp_path / "docker"


def test_store_get_erase_in_dockers_format(docker_config):
    config.store_credentials("localhost:5000", "alice", "pa:ss")
    config.store_credentials(None, "hubuser", "x")
    doc = json.loads((docker_config / "config.json").read_text())
    assert base64.b64decode(doc["auths"]["localhost:5000"]["auth"]) == b"alice:pa:ss"
    assert "https://index.docker.io/v1/" in doc["auths"]
    assert (docker_config / "config.json").stat().st_mode & 0o777 == 0o600
    assert config.get_credentials("https://localhost:5000/v2/") == {
        "username": "alice", "password": "pa:ss", "serveraddress": "localhost:5000"}
    assert config.get_credentials("registry-1.docker.io")["username"] == "hubuser"
    assert config.erase_credentials("localhost:5000")
    assert not config.erase_credentials("localhost:5000")
    assert config.get_credentials("localhost:5000") is None


def test_broken_config_names_the_file(docker_config):
    docker_config.mkdir()
    (docker_config / "config.json").write_text("{nope")
    with pytest.raises(InvalidArgument, match="config.json: cannot read docker config"):
        config.load()


def test_auth_header_round_trip():
    auth = {"username": "u", "password": "p", "serveraddress": "h"}
    assert config.decode_auth_header(config.encode_auth_header(auth)) == auth
    assert config.encode_auth_header(None) == "e30="
    assert config.decode_auth_header("e30=") is None
    assert config.decode_auth_header("e30") is None          # unpadded, as some clients send
    with pytest.raises(InvalidArgument, match="X-Registry-Auth"):
        config.decode_auth_header("!!!not-base64")


def test_normalize_server():
    assert config.normalize_server("https://index.docker.io/v1/") == "docker.io"
    assert config.normalize_server("http://localhost:5000") == "localhost:5000"
    assert config.config_key("docker.io") == config.INDEX_SERVER


def test_certs_d_layout(tmp_path):
    d = tmp_path / "certs.d" / "reg:5000"
    d.mkdir(parents=True)
    (d / "ca.crt").write_text("x")
    (d / "client.cert").write_text("x")
    (d / "client.key").write_text("x")
    found = config.certs_dir("reg:5000", (str(tmp_path / "none"), str(tmp_path / "certs.d")))
    assert found == str(d)
    cas, client = config.tls_files(found)
    assert cas == [str(d / "ca.crt")] and client == (str(d / "client.cert"), str(d / "client.key"))
    (d / "client.key").unlink()
    with pytest.raises(InvalidArgument, match="has no client.key"):
        config.tls_files(found)


def test_credential_helper_protocol(docker_config, tmp_path, monkeypatch):
    """A tiny helper that keeps one secret in a file, speaking docker's helper protocol."""
    bindir = tmp_path / "bin"
    bindir.mkdir()
    store = tmp_path / "secret.json"
    helper = bindir / "docker-credential-filetest"
    helper.write_text(f"""#!/bin/sh
case "$1" in
  store) cat > {store} ;;
  get) read server; [ -f {store} ] && cat {store} || {{ echo "credentials not found in native keychain"; exit 1; }} ;;
  erase) rm -f {store} ;;
esac
""")
    helper.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bindir}:/usr/bin:/bin")
    docker_config.mkdir()
    (docker_config / "config.json").write_text('{"credsStore": "filetest"}')
    assert config.get_credentials("reg:5000") is None
    config.store_credentials("reg:5000", "carol", "pw")
    assert json.loads(store.read_text())["Username"] == "carol"
    assert json.loads((docker_config / "config.json").read_text())["auths"] == {"reg:5000": {}}
    assert config.get_credentials("reg:5000")["password"] == "pw"
    assert config.erase_credentials("reg:5000") and not store.exists()
    (docker_config / "config.json").write_text('{"credsStore": "missing"}')
    with pytest.raises(InvalidArgument, match="docker-credential-missing is not installed"):
        config.get_credentials("reg:5000")
