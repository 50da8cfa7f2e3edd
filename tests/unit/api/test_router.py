import pytest

from dockyard.api.router import Router, split_version
from dockyard.errors import InvalidArgument, NotFound, NotImplementedYet


def _router():
    r = Router(modules=[])
    r.add("GET", "/images/json", "list")
    r.add("GET", "/images/{name:.+}/json", "inspect")
    r.add("DELETE", "/images/{name:.+}", "delete")
    r.add("POST", "/containers/{id}/start", "start")
    return r


def test_literal_routes_win_over_patterns():
    assert _router().resolve("GET", "/images/json") == ("list", {})


def test_greedy_names_keep_slashes_and_colons():
    h, m = _router().resolve("GET", "/images/localhost:5000/team/app:1/json")
    assert h == "inspect" and m == {"name": "localhost:5000/team/app:1"}


def test_single_segment_params_do_not_cross_slashes():
    with pytest.raises(NotFound):
        _router().resolve("POST", "/containers/a/b/start")


def test_known_path_with_other_method_is_501():
    with pytest.raises(NotImplementedYet):
        _router().resolve("PUT", "/images/json")


def test_head_falls_back_to_get():
    assert _router().resolve("HEAD", "/images/json")[0] == "list"


@pytest.mark.parametrize("path,ver,rest", [
    ("/v1.43/images/json", 1.43, "/images/json"),
    ("/v1.22/info", 1.22, "/info"),
    ("/images/json", 1.43, "/images/json"),
])
def test_version_prefix(path, ver, rest):
    assert split_version(path) == (ver, rest)


def test_too_new_version_is_rejected_with_maximum():
    with pytest.raises(InvalidArgument, match="Maximum supported API version is 1.43"):
        split_version("/v1.99/info")
