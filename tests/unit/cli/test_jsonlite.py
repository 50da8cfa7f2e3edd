"""dockyard.jsonlite (the C accelerator without ``import json``) writes what json writes."""
import json

from hypothesis import given, strategies as st

from dockyard import jsonlite

_leaf = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text()
_doc = st.recursive(_leaf, lambda c: st.lists(c, max_size=4) |
                    st.dictionaries(st.text(max_size=5), c, max_size=4), max_leaves=20)


@given(_doc)
def test_dumps_matches_json(doc):
    assert jsonlite.dumps(doc) == json.dumps(doc)
    assert jsonlite.dumps(doc, indent=4) == json.dumps(doc, indent=4)
    assert jsonlite.loads(jsonlite.dumps(doc, indent=2)) == json.loads(json.dumps(doc))


def test_indent_special_cases():
    doc = {"a": [], "b": {}, 1: True, None: [1.5, float("inf")], "é": "ü\n", "t": (1, 2)}
    assert jsonlite.dumps(doc, indent=4) == json.dumps(doc, indent=4)
    assert jsonlite.dumps([], indent=4) == "[]" and jsonlite.dumps("x", indent=4) == '"x"'


def test_runtime_name_is_the_same_module():
    from dockyard.runtime import jsonio
    assert jsonio.loads is jsonlite.loads and jsonio.dumps is jsonlite.dumps
