"""The owned-row lookup: one of a user's rows by id, or NotFound (another user's id included)."""

from __future__ import annotations

from typing import Any

from ..errors import NotFound

__all__ = ["owned_row"]


def owned_row(conn: Any, table: str, user_id: int, row_id: int, noun: str, *, where: str = "") -> Any:
    """The row ``row_id`` of ``table`` if the user owns it (and it meets ``where``), else NotFound.

    ``noun`` names the object in the message (``"memory 7 not found"``); ``where`` is an extra SQL
    condition without parameters (``"is_deleted = 0"``).
    """
    sql = f"SELECT * FROM {table} WHERE id = ? AND user_id = ?" + (f" AND {where}" if where else "")
    row = conn.execute(sql, (row_id, user_id)).fetchone()
    if row is None:
        raise NotFound(f"{noun} {row_id} not found")
    return row
