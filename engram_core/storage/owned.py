"""The owned-row lookup: one of a user's rows by id, or NotFound (another user's id included)."""

from __future__ import annotations

from typing import Any

from ..errors import NotFound

__all__ = ["owned_row"]


def owned_row(conn: Any, table: str, user_id: int, row_id: int, noun: str, *, not_deleted: bool = False) -> Any:
    """The row ``row_id`` of ``table`` if the user owns it (and, with ``not_deleted``, is not in the
    trash), else NotFound. ``table`` is a literal of the caller's; ``noun`` names the object in the
    message (``"memory 7 not found"``).
    """
    sql = f"SELECT * FROM {table} WHERE id = ? AND user_id = ?" + (" AND is_deleted = 0" if not_deleted else "")
    row = conn.execute(sql, (row_id, user_id)).fetchone()
    if row is None:
        raise NotFound(f"{noun} {row_id} not found")
    return row
