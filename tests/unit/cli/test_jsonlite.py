"""dockyard.jsonlite (the C accelerator without ``import json``) writes what json writes."""
import json

from hypothesis import given, strategies as st

from dockyard import jsonlite

_leaf = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text()
_doc = st.recursive(_leaf, lambda c: st.lists(c, max_size=4) |
                    st.dictionaries(st.text(max_size=5), c, max_size=4), max_leaves=20)


def _go(s: str) -> str:
    """Go's json string: UTF-8 kept, HTML characters and U+2028/9 escaped."""
    for a, b in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026"),
                 ("\u2028", "\\u2028"), ("\u2029", "\\u2029")):
        s = s.replace(a, b)
    return s


@given(_doc)
def test_dumps_matches_json(doc):
    assert jsonlite.dumps(doc) == json.dumps(doc)
    # indented: json's layout, Go's strings (docker inspect's output)
    assert jsonlite.dumps(doc, indent=4) == _go(json.dumps(doc, indent=4, ensure_ascii=False))
    assert jsonlite.loads(jsonlite.dumps(doc, indent=2)) == json.loads(json.dumps(doc))
    assert jsonlite.dumps_go(doc) == json.dumps(doc, ensure_ascii=False, separators=(",", ":"))


def test_indent_special_cases():
    doc = {"a": [], "b": {}, 1: True, None: [1.5, float("inf")], "é": "ü\n", "t": (1, 2)}
    assert jsonlite.dumps(doc, indent=4) == json.dumps(doc, indent=4, ensure_ascii=False)
    assert jsonlite.dumps([], indent=4) == "[]" and jsonlite.dumps("x", indent=4) == '"x"'
    assert jsonlite.dumps({"<a>": "b&c"}, indent=1) == '{\n "\\u003ca\\u003e": "b\\u0026c"\n}'


def test_runtime_name_is_the_same_module():
    from dockyard.runtime import jsonio
    assert jsonio.loads is jsonlite.loads and jsonio.dumps is jsonlite.dumps
