"""SigOpt's pagination: newest first, `before`/`after` markers, and a last page whose marker
is null (the official client's `iterate_pages()` loops forever otherwise)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar

from coordinator.errors import InvalidInput

T = TypeVar("T")
MAX_LIMIT = 1000


def _marker(query: Mapping[str, str], name: str) -> int | None:
    raw = query.get(name)
    if raw is None or raw == "":
        return None
    if not raw.isdigit() or len(raw) > 30:
        raise InvalidInput(f"{name}: must be a marker from a previous page's paging, got "
                           f"{raw[:40]!r}")
    return int(raw)


def limit_of(query: Mapping[str, str]) -> int:
    raw = query.get("limit")
    if raw is None or raw == "":
        return MAX_LIMIT
    if not raw.isdigit() or int(raw) > MAX_LIMIT:
        raise InvalidInput(f"limit: must be a whole number from 0 to {MAX_LIMIT}, got "
                           f"{raw[:40]!r}")
    return int(raw)


def page_ids(ids: Sequence[str], query: Mapping[str, str]) -> tuple[list[str], dict[str, Any]]:
    """Picks one page of ids (any order in, newest first out) and its paging markers."""
    limit = limit_of(query)
    before, after = _marker(query, "before"), _marker(query, "after")
    ordered = sorted((int(i) for i in ids), reverse=True)
    window = [i for i in ordered if (before is None or i < before)
              and (after is None or i > after)]
    if after is not None and before is None:
        chosen = window[-limit:] if limit else []
    else:
        chosen = window[:limit]
    older = bool(chosen) and chosen[-1] > ordered[-1]
    newer = bool(chosen) and chosen[0] < ordered[0]
    paging = {"before": str(chosen[-1]) if older else None,
              "after": str(chosen[0]) if newer else None}
    return [str(i) for i in chosen], {"count": len(ordered), "paging": paging}


def pagination(items: Sequence[T], ids: Sequence[str], query: Mapping[str, str],
               render: Callable[[T], dict[str, Any]], key: Callable[[T], str]
               ) -> dict[str, Any]:
    """A pagination object over already-loaded items."""
    chosen, meta = page_ids(ids, query)
    by_id = {key(item): item for item in items}
    return wrap([render(by_id[i]) for i in chosen if i in by_id], meta)


def wrap(data: list[dict[str, Any]], meta: dict[str, Any]) -> dict[str, Any]:
    return {"object": "pagination", "data": data, "count": meta["count"],
            "paging": meta["paging"]}


def whole(data: list[dict[str, Any]]) -> dict[str, Any]:
    """Everything on one page (best assignments, best runs)."""
    return {"object": "pagination", "data": data, "count": len(data),
            "paging": {"before": None, "after": None}}
