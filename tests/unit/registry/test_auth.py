"""WWW-Authenticate parsing and the authenticator's decisions (token fetch is faked)."""
import json

import pytest

from dockyard.registry.auth import Authenticator, Unauthorized, basic_header, parse_challenges


def test_parse_bearer_challenge():
    h = 'Bearer realm="https://auth.docker.io/token",service="registry.docker.io",' \
        'scope="repository:library/node:pull"'
    assert parse_challenges(h) == [("bearer", {"realm": "https://auth.docker.io/token",
                                               "service": "registry.docker.io",
                                               "scope": "repository:library/node:pull"})]


def test_parse_basic_and_escapes_and_bare_tokens():
    assert parse_challenges('Basic realm="a \\"b\\""') == [("basic", {"realm": 'a "b"'})]
    assert parse_challenges("Bearer realm=x,error=insufficient_scope") == \
        [("bearer", {"realm": "x", "error": "insufficient_scope"})]
    assert parse_challenges("") == []


class FakeRealm:
    def __init__(self, status=200, token="tok"):
        self.status, self.token, self.calls = status, token, []

    def __call__(self, url, headers, body=None):
        self.calls.append((url, headers, body))
        return self.status, {}, json.dumps({"token": self.token, "expires_in": 300}).encode()


def test_bearer_token_is_fetched_per_scope_with_credentials():
    realm = FakeRealm()
    a = Authenticator("reg", {"username": "u", "password": "p"}, realm)
    scope = "repository:x:pull,push"
    assert a.challenge('Bearer realm="http://t/token",service="reg"', scope, None)
    url, headers, _ = realm.calls[0]
    assert url == "http://t/token?service=reg&scope=repository:x:pull,push"
    assert headers["Authorization"] == basic_header("u", "p")
    assert a.header(scope) == "Bearer tok"
    assert a.header("repository:y:pull") is None
    with pytest.raises(Unauthorized, match="denied"):
        a.challenge('Bearer realm="http://t/token"', scope, "Bearer tok")


def test_token_server_refusal_is_unauthorized():
    a = Authenticator("reg", {"username": "u", "password": "bad"}, FakeRealm(status=401))
    with pytest.raises(Unauthorized, match="incorrect username or password"):
        a.challenge('Bearer realm="http://t/token"', None, None)


def test_basic_needs_credentials_and_refusal_is_final():
    with pytest.raises(Unauthorized, match="authentication required"):
        Authenticator("reg", None, FakeRealm()).challenge('Basic realm="r"', None, None)
    a = Authenticator("reg", {"username": "u", "password": "p"}, FakeRealm())
    assert a.challenge('Basic realm="r"', None, None)
    assert a.header("anything") == basic_header("u", "p")
    with pytest.raises(Unauthorized, match="incorrect username or password"):
        a.challenge('Basic realm="r"', None, basic_header("u", "p"))


def test_identity_token_uses_the_oauth_refresh_grant():
    realm = FakeRealm()
    a = Authenticator("reg", {"identitytoken": "rt-1"}, realm)
    assert a.challenge('Bearer realm="http://t/token",service="reg"', "repository:x:pull", None)
    url, headers, body = realm.calls[0]
    assert url == "http://t/token" and headers["Content-Type"].startswith("application/x-www")
    assert b"grant_type=refresh_token" in body and b"refresh_token=rt-1" in body
    assert a.header("repository:x:pull") == "Bearer tok"
