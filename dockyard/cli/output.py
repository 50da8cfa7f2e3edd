"""Output helpers shared by the verbs: tables, Go-template-like --format, sizes, ages.

``format_template`` understands the subset of Go templates that docker users write:
``{{.Field}}``, nested ``{{.A.B}}``, ``{{json .}}``, ``{{json .Config}}``,
``{{index .Labels "k"}}``, ``{{join .Names ","}}``, ``{{upper .X}}``, ``{{lower .X}}``,
``{{len .X}}``, ``{{println .X}}`` and a leading ``table`` (prints a header row).
"""
from __future__ import annotations

TYPE_CHECKING = False  # typing costs ~25 ms of import on every CLI call
if TYPE_CHECKING:
    from typing import Any, Iterable, Sequence

import time

from dockyard import jsonlite
from dockyard.units import human_duration, human_size  # noqa: F401 - the verbs import them from here

# No re/json/shlex here: every listing verb imports this module, and those three cost
# more start-up time than a ``ps`` request takes. The scanners below do what
# ``re.sub(r"\{\{-?\s*(.*?)\s*-?\}\}", …)`` and ``shlex.split(expr, posix=False)`` did.


def short_id(ident: str, n: int = 12) -> str:
    return ident.split(":", 1)[-1][:n]


def since(ts: float) -> str:
    return human_duration(time.time() - ts) + " ago"


def table(rows: Iterable[Sequence[Any]], columns: Sequence[str], gap: int = 3,
          min_width: int = 10) -> str:
    """Columns padded like docker's tabwriter (cells of at least 10, 3 spaces of padding)."""
    rows = [[str(c) for c in r] for r in rows]
    widths = [len(c) for c in columns]
    for r in rows:
        for i, c in enumerate(r[:-1]):
            widths[i] = max(widths[i], len(c))
    out = []
    for r in [list(columns)] + rows:
        cells = [c.ljust(max(widths[i] + gap, min_width)) if i < len(r) - 1 else c
                 for i, c in enumerate(r)]
        out.append("".join(cells).rstrip())
    return "\n".join(out)


# -- Go-template subset --------------------------------------------------------

def _resolve(obj: Any, path: str) -> Any:
    if path == ".":
        return obj
    cur = obj
    for part in path.strip(".").split("."):
        if isinstance(cur, dict):
            cur = cur.get(part)
        else:
            cur = getattr(cur, part, None)
    return cur


def _arg(obj: Any, tok: str) -> Any:
    if tok.startswith("."):
        return _resolve(obj, tok)
    if tok[:1] in "\"'`":
        return tok[1:-1]
    try:
        return int(tok)
    except ValueError:
        return tok


def _text(v: Any) -> str:
    if v is None:
        return "<no value>"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, dict):
        return "map[" + " ".join(f"{k}:{_text(x)}" for k, x in sorted(v.items())) + "]"
    if isinstance(v, list):
        return "[" + " ".join(_text(x) for x in v) + "]"
    return str(v)


_FUNCS = {
    "json": lambda v: jsonlite.dumps_go(v),
    "upper": lambda v: _text(v).upper(),
    "lower": lambda v: _text(v).lower(),
    "title": lambda v: _text(v).title(),
    "len": lambda v: len(v or []),
    "join": lambda v, sep: sep.join(_text(x) for x in (v or [])),
    "index": lambda v, k: (v or {}).get(k) if isinstance(v, dict) else (v or [])[int(k)],
    "println": lambda *v: " ".join(_text(x) for x in v) + "\n",
    "print": lambda *v: "".join(_text(x) for x in v),
    "truncate": lambda v, n: _text(v)[: int(n)],
}


def split_words(expr: str) -> list[str]:
    """``shlex.split(expr, posix=False)``: words split on blanks, a quoted string (quotes
    kept) is a word of its own; an unclosed quote is a ValueError."""
    toks, i, n = [], 0, len(expr)
    while i < n:
        c = expr[i]
        if c in " \t\r\n":
            i += 1
        elif c in "\"'":
            j = expr.find(c, i + 1)
            if j < 0:
                raise ValueError("No closing quotation")
            toks.append(expr[i:j + 1])
            i = j + 1
        else:
            j = i
            while j < n and expr[j] not in " \t\r\n":
                j += 1
            toks.append(expr[i:j])
            i = j
    return toks


def sub_actions(fmt: str, fn) -> str:
    """Replace each ``{{ action }}`` (``{{-``/``-}}`` trims allowed) by ``fn(action)``:
    the first ``}}`` closes it, and an action does not span lines."""
    out, i = [], 0
    while True:
        j = fmt.find("{{", i)
        k = fmt.find("}}", j + 2) if j >= 0 else -1
        if k < 0:
            break
        inner = fmt[j + 2:k]
        if inner.startswith("-"):
            inner = inner[1:]
        if inner.endswith("-"):
            inner = inner[:-1]
        inner = inner.strip()
        if "\n" in inner:
            out.append(fmt[i:j + 1])
            i = j + 1
            continue
        out.append(fmt[i:j])
        out.append(fn(inner))
        i = k + 2
    out.append(fmt[i:])
    return "".join(out)


def _eval(obj: Any, expr: str) -> str:
    toks = split_words(expr)
    if not toks:
        return ""
    if toks[0] in _FUNCS:
        val = _FUNCS[toks[0]](*[_arg(obj, t) for t in toks[1:]])
    else:
        val = _arg(obj, toks[0])
    return val if isinstance(val, str) else _text(val)


def format_template(fmt: str, obj: Any) -> str:
    """Render ``fmt`` for ``obj`` (a ``table`` prefix is handled by :func:`format_rows`)."""
    fmt = fmt.replace("\\t", "\t").replace("\\n", "\n")
    return sub_actions(fmt, lambda expr: _eval(obj, expr))


def format_rows(fmt: str, objs: Iterable[Any], headers: dict[str, str] | None = None) -> str:
    """Render one line per object; ``table …`` adds a header row and aligns columns."""
    objs = list(objs)
    if not fmt.startswith("table"):
        return "\n".join(format_template(fmt, o) for o in objs)
    fmt = fmt[len("table"):].strip() or "{{json .}}"
    fmt = fmt.replace("\\t", "\t")
    head = sub_actions(fmt, lambda expr: _header(expr, headers or {}))
    lines = [head] + [format_template(fmt, o) for o in objs]
    cols = [ln.split("\t") for ln in lines]
    return table(cols[1:], cols[0]) if cols else ""


def _header(expr: str, headers: dict[str, str]) -> str:
    field = expr.split()[-1].lstrip(".")
    if field in headers:
        return headers[field]
    out = []
    for i, c in enumerate(field):  # a space where a lower-case letter meets a capital
        if i and "A" <= c <= "Z" and "a" <= field[i - 1] <= "z":
            out.append(" ")
        out.append(c)
    return "".join(out).upper()


def print_json(obj: Any) -> None:
    print(jsonlite.dumps(obj, indent=4))
