"""JSON through the C accelerator alone, without importing :mod:`json`.

``import json`` pulls in :mod:`re` (and with it enum, functools...), about 5 ms
of a ~50 ms ``dockyard-runtime run``. The C scanner and encoder in ``_json``
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


def dumps(obj) -> str:
    """Compact-ish JSON (``", "``/``": "`` separators, like json.dumps defaults)."""
    return "".join(_encode(obj, 0))
