"""JSON through the C accelerator alone, without importing :mod:`json`.

Shared by the runtime (``dockyard.runtime.jsonio`` re-exports it) and the CLI:
``import json`` pulls in :mod:`re` (and with it enum, functools...), about 5 ms
of a ~50 ms ``dockyard-runtime run`` and more of a ``dockyard ps``. The C scanner and encoder in ``_json``
are what :mod:`json` uses underneath; only error reporting needs the full
module, so it is imported on the error path.
"""
from __future__ import annotations

import _json


class _Context:
    """The attributes ``_json.make_scanner`` reads from a decoder."""
    strict = True
    object_hook = None
    object_pairs_hook = None
    parse_float = float
    parse_int = int
    memo: dict = {}

    @staticmethod
    def parse_constant(name: str) -> float:
        return {"-Infinity": float("-inf"), "Infinity": float("inf"), "NaN": float("nan")}[name]


_scan = _json.make_scanner(_Context())
_WS = " \t\n\r"


def _error(msg: str, doc: str, pos: int) -> ValueError:
    import json
    return json.JSONDecodeError(msg, doc, pos)


def loads(data: str | bytes):
    """Parse one JSON document; malformed input raises ValueError (JSONDecodeError)."""
    doc = data.decode("utf-8") if isinstance(data, (bytes, bytearray)) else data
    start = len(doc) - len(doc.lstrip(_WS))
    try:
        obj, end = _scan(doc, start)
    except StopIteration as e:
        raise _error("Expecting value", doc, e.value) from None
    except Exception:  # noqa: BLE001 - malformed: let json itself say where
        import json
        return json.loads(doc)
    finally:
        _Context.memo.clear()
    if doc[end:].strip(_WS):
        raise _error("Extra data", doc, end)
    return obj


_encode = _json.make_encoder(None, None, _json.encode_basestring_ascii, None, ": ", ", ",
                             False, False, True)
_encode_go = _json.make_encoder(None, None, _json.encode_basestring, None, ":", ",",
                                False, False, True)


def dumps_go(obj) -> str:
    """What the docker CLI's template ``json`` function prints (Go's encoder with
    SetEscapeHTML(false)): compact, no spaces, non-ASCII characters as they are."""
    return "".join(_encode_go(obj, 0))


def dumps(obj, indent: int | None = None) -> str:
    """``json.dumps(obj)`` (``", "``/``": "`` separators, ASCII), or with ``indent``
    the layout of ``json.dumps(obj, indent=indent)`` with strings as Go's encoder writes
    them (what ``docker inspect`` prints): UTF-8 as is, ``<>&`` as ``\u003c``…"""
    if indent is None:
        return "".join(_encode(obj, 0))
    out: list[str] = []
    _pretty(obj, 0, " " * indent, out)
    return "".join(out)


def _key(k) -> str:
    if isinstance(k, str):
        return k
    if k is True or k is False:
        return "true" if k else "false"
    if k is None:
        return "null"
    if isinstance(k, (int, float)):
        return "".join(_encode(k, 0))
    raise TypeError(f"keys must be str, int, float, bool or None, not {type(k).__name__}")


def _pretty(o, level: int, pad: str, out: list) -> None:
    """json's indented layout: ``,`` between items, ``": "`` after keys, ``{}``/``[]``
    for empty containers; leaves go through the C encoder."""
    if isinstance(o, dict):
        if not o:
            out.append("{}")
            return
        inner = "\n" + pad * (level + 1)
        out.append("{")
        first = True
        for k, v in o.items():
            out.append(inner if first else "," + inner)
            first = False
            out.append(_encode_str(_key(k)))
            out.append(": ")
            _pretty(v, level + 1, pad, out)
        out.append("\n" + pad * level + "}")
    elif isinstance(o, (list, tuple)):
        if not o:
            out.append("[]")
            return
        inner = "\n" + pad * (level + 1)
        out.append("[")
        first = True
        for v in o:
            out.append(inner if first else "," + inner)
            first = False
            _pretty(v, level + 1, pad, out)
        out.append("\n" + pad * level + "]")
    elif isinstance(o, str):
        out.append(_encode_str(o))
    else:
        out.append("".join(_encode(o, 0)))


_GO_ESCAPES = (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026"),
               ("\u2028", "\\u2028"), ("\u2029", "\\u2029"))


def _encode_str(s: str) -> str:
    """A JSON string as Go's json.Marshal writes it (HTML-safe, UTF-8 kept)."""
    out = _json.encode_basestring(s)
    if "<" in s or ">" in s or "&" in s or "\u2028" in s or "\u2029" in s:
        for a, b in _GO_ESCAPES:
            out = out.replace(a, b)
    return out
