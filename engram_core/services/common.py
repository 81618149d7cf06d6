"""Small shared pieces of the services: JSON columns, filtered listing SQL."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

__all__ = ["filters", "json_dump", "row_dict"]


def row_dict(r: Any, json_cols: Iterable[str] = (), *, drop: Iterable[str] = ()) -> dict[str, Any]:
    """A row as a dict with its JSON text columns decoded."""
    out = dict(r)
    for col in json_cols:
        if col in out and isinstance(out[col], str):
            out[col] = json.loads(out[col])
    for col in drop:
        out.pop(col, None)
    return out


def json_dump(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def filters(base: str, user_id: int, q: dict[str, Any], columns: dict[str, str]) -> tuple[str, list[Any]]:
    """``base`` + ``WHERE user_id = ?`` + one equality per non-empty ``q[key]`` (``columns``: key -> column)."""
    sql, args = f"{base} WHERE user_id = ?", [user_id]
    for key, col in columns.items():
        if q.get(key) not in (None, ""):
            sql += f" AND {col} = ?"
            args.append(q[key])
    return sql, args
