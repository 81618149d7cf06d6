"""Helpers shared by the entity, project, episode and conversation services."""

from __future__ import annotations

import json
from typing import Any

from ..auth import audit
from ..auth.context import AuthContext
from ..errors import Invalid, NotFound
from ..storage.owned import owned_row
from ..timeutil import now_iso
from ..validation import INT_MAX, Field

__all__ = ["ids_field", "memory_summaries", "require_memories", "update_fields"]


def _to_ids(name: str) -> Any:
    def check(values: list[float]) -> list[int]:
        out: list[int] = []
        for i, v in enumerate(values):
            if not float(v).is_integer() or not 1 <= v <= INT_MAX:
                raise Invalid(f"{name}[{i}]", "must be a positive integer id")
            if int(v) not in out:
                out.append(int(v))
        return out

    return check


def ids_field(name: str = "memory_ids", *, required: bool = False, max_items: int = 500) -> Field:
    """A list of positive integer ids (declared as numbers, checked to be integers)."""
    return Field(
        name,
        "float_list",
        required=required,
        max_items=max_items,
        check=_to_ids(name),
        help="Memory ids (integers).",
        schema={
            "type": "array",
            "items": {"type": "integer", "minimum": 1, "maximum": INT_MAX},
            "minItems": 1,
            "maxItems": max_items,
            "description": "Memory ids (integers).",
        },
    )


def require_memories(conn: Any, user_id: int, ids: list[int]) -> None:
    """NotFound unless every id is one of the user's memories (not in the trash)."""
    if not ids:
        return
    marks = ", ".join("?" for _ in ids)
    found = {
        r[0]
        for r in conn.execute(
            f"SELECT id FROM memories WHERE user_id = ? AND is_deleted = 0 AND id IN ({marks})",
            (user_id, *ids),
        )
    }
    missing = [i for i in ids if i not in found]
    if missing:
        raise NotFound(f"memory {missing[0]} not found")


def _set_clause(changes: dict[str, Any], columns: dict[str, str]) -> tuple[str, list[Any]]:
    """``"a = ?, b = ?"`` and values for the changed fields (``columns`` maps field -> column)."""
    parts, values = [], []
    for field, column in columns.items():
        if field in changes and changes[field] is not None:
            value = changes[field]
            parts.append(f"{column} = ?")
            values.append(json.dumps(value) if isinstance(value, list | dict) else value)
    return ", ".join(parts), values


def update_fields(
    conn: Any, auth: AuthContext, table: str, noun: str, row_id: int, changes: dict[str, Any], columns: dict[str, str]
) -> Any:
    """Write the given fields of one of the caller's rows and return the row as it is now.

    ``columns`` maps field -> column; fields left out or None stay as they are. When any is written,
    ``updated_at`` moves to now. The audit row ``<noun>.update`` names every field given. The caller
    has checked that the row is the caller's (``owned_row``) before its own checks.
    """
    sets, values = _set_clause(changes, columns)
    if sets:
        conn.execute(
            f"UPDATE {table} SET {sets}, updated_at = ? WHERE id = ? AND user_id = ?",
            (*values, now_iso(), row_id, auth.user_id),
        )
    audit.record(conn, auth, f"{noun}.update", noun, row_id, {"fields": sorted(changes)})
    return owned_row(conn, table, auth.user_id, row_id, noun)


def memory_summaries(conn: Any, sql: str, args: Any) -> list[dict[str, Any]]:
    """Short memory shapes for a query selecting ``m.*`` (plus any extra columns)."""
    out = []
    for r in conn.execute(sql, args):
        out.append(
            {
                "id": r["id"],
                "content": r["content"],
                "category": r["category"],
                "importance": r["importance"],
                "created_at": r["created_at"],
                "tags": json.loads(r["tags"]),
            }
        )
    return out
