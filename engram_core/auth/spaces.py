"""Spaces: named partitions of one user's memories (projects, agents, contexts)."""

from __future__ import annotations

from typing import Any

from ..errors import Conflict, NotFound
from ..timeutil import now_iso
from . import audit
from .context import AuthContext

__all__ = ["check_space", "create_space", "delete_space", "list_spaces"]


def _row(r: Any) -> dict[str, Any]:
    return {"id": r["id"], "name": r["name"], "description": r["description"], "created_at": r["created_at"]}


def create_space(conn: Any, auth: AuthContext, name: str, description: str) -> dict[str, Any]:
    if conn.execute("SELECT 1 FROM spaces WHERE user_id = ? AND name = ?", (auth.user_id, name)).fetchone():
        raise Conflict(f"a space named {name!r} exists already")
    cur = conn.execute(
        "INSERT INTO spaces (user_id, name, description, created_at) VALUES (?, ?, ?, ?)",
        (auth.user_id, name, description, now_iso()),
    )
    space_id = int(cur.lastrowid)
    audit.record(conn, auth, "space.create", "space", space_id, {"name": name})
    return _row(conn.execute("SELECT * FROM spaces WHERE id = ?", (space_id,)).fetchone())


def list_spaces(conn: Any, user_id: int) -> list[dict[str, Any]]:
    rows = conn.execute(
        "SELECT s.*, (SELECT count(*) FROM memories m WHERE m.space_id = s.id AND m.is_latest = 1"
        " AND m.is_deleted = 0) AS memory_count FROM spaces s WHERE s.user_id = ? ORDER BY s.id",
        (user_id,),
    )
    return [{**_row(r), "memory_count": r["memory_count"]} for r in rows]


def check_space(conn: Any, user_id: int, space_id: int | None) -> None:
    """Raise ``NotFound`` unless ``space_id`` is None or one of the user's spaces."""
    if space_id is None:
        return
    if conn.execute("SELECT 1 FROM spaces WHERE id = ? AND user_id = ?", (space_id, user_id)).fetchone() is None:
        raise NotFound(f"space {space_id} not found")


def delete_space(conn: Any, auth: AuthContext, space_id: int) -> dict[str, Any]:
    check_space(conn, auth.user_id, space_id)
    conn.execute("UPDATE memories SET space_id = NULL WHERE space_id = ? AND user_id = ?", (space_id, auth.user_id))
    conn.execute("DELETE FROM spaces WHERE id = ? AND user_id = ?", (space_id, auth.user_id))
    audit.record(conn, auth, "space.delete", "space", space_id)
    return {"deleted": True, "id": space_id}
