"""Filter helpers shared by the engine's list and prune operations (docker's semantics)."""
from __future__ import annotations


def labels_match(labels: dict, filters: dict[str, list[str]]) -> bool:
    """``label=k``/``label=k=v`` must all hold; ``label!=k``/``label!=k=v`` must all fail."""
    def hit(f: str) -> bool:
        k, eq, v = f.partition("=")
        return k in labels and (not eq or labels[k] == v)
    return all(hit(f) for f in filters.get("label", [])) and \
        not any(hit(f) for f in filters.get("label!", []))


def until(filters: dict[str, list[str]]) -> float | None:
    """The earliest of the ``until`` values (unix time, RFC 3339, or a Go duration ago)."""
    if not filters.get("until"):
        return None
    from dockyard.network.views import parse_until
    return min(parse_until(v) for v in filters["until"])
