"""The `network` CLI verb against a recording fake client."""
import argparse

from dockyard.cli.commands import network


class FakeClient:
    def __init__(self, replies=None):
        self.calls = []
        self.replies = replies or {}

    def _call(self, method, path, **kw):
        self.calls.append((method, path, kw))
        return self.replies.get((method, path))

    def get(self, path, params=None):
        return self._call("GET", path, params=params)

    def post(self, path, params=None, json=None, body=None, headers=None):
        return self._call("POST", path, params=params, json=json)

    def delete(self, path, params=None):
        return self._call("DELETE", path, params=params)


def run(argv, client):
    p = argparse.ArgumentParser()
    network.configure(p)
    return network.run(p.parse_args(argv), client)


def test_create_sends_docker_body(capsys):
    c = FakeClient({("POST", "/networks/create"): {"Id": "abc", "Warning": ""}})
    assert run(["create", "--subnet", "10.9.0.0/24", "--gateway", "10.9.0.254", "--internal",
                "--label", "k=v", "app"], c) == 0
    body = c.calls[0][2]["json"]
    assert body["Name"] == "app" and body["Internal"] is True and body["Labels"] == {"k": "v"}
    assert body["IPAM"]["Config"] == [{"Subnet": "10.9.0.0/24", "Gateway": "10.9.0.254"}]
    assert capsys.readouterr().out == "abc\n"


def test_ls_table_and_quiet(capsys):
    nets = [{"Id": "f" * 64, "Name": "zeta", "Driver": "bridge", "Scope": "local"},
            {"Id": "e" * 64, "Name": "alpha", "Driver": "null", "Scope": "local"}]
    c = FakeClient({("GET", "/networks"): nets})
    run(["ls"], c)
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["NETWORK", "ID", "NAME", "DRIVER", "SCOPE"]
    assert lines[1].split() == ["e" * 12, "alpha", "null", "local"]
    c = FakeClient({("GET", "/networks"): nets})
    run(["ls", "-q", "-f", "driver=bridge"], c)
    assert c.calls[0][2]["params"] == {"filters": '{"driver": ["bridge"]}'}


def test_connect_with_alias_and_ip():
    c = FakeClient()
    run(["connect", "--alias", "db", "--ip", "10.9.0.9", "app", "web"], c)
    assert c.calls == [("POST", "/networks/app/connect", {"params": None, "json": {
        "Container": "web", "EndpointConfig": {"Aliases": ["db"],
                                               "IPAMConfig": {"IPv4Address": "10.9.0.9"}}}})]
