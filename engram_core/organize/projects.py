"""Projects: named groups of memories (a memory may belong to several projects)."""

from __future__ import annotations

from typing import Any

from ..auth import audit
from ..auth.context import AuthContext
from ..errors import Conflict
from ..model.memories import VISIBLE
from ..storage.database import Database
from ..storage.owned import owned_row
from ..timeutil import now_iso
from ..validation import Field, Schema
from .common import memory_summaries, require_memories, update_fields

__all__ = ["PROJECT", "PROJECT_LIST", "PROJECT_UPDATE", "ProjectService"]

_STATUSES = ("active", "paused", "done", "archived")
PROJECT = Schema(
    Field("name", "text", required=True, max_len=200),
    Field("description", "str", max_len=4000),
    Field("status", "str", default="active", choices=_STATUSES),
    description="Create a project.",
)
PROJECT_UPDATE = Schema(
    Field("name", "text", max_len=200),
    Field("description", "str", max_len=4000),
    Field("status", "str", choices=_STATUSES),
    description="Change a project (only the fields given).",
)
PROJECT_LIST = Schema(Field("status", "str", choices=_STATUSES), Field("limit", "int", default=100, min=1, max=1000))
_COLUMNS = {"name": "name", "description": "description", "status": "status"}


def project_dict(r: Any) -> dict[str, Any]:
    """The public shape of a project row."""
    return {
        "id": r["id"],
        "name": r["name"],
        "description": r["description"],
        "status": r["status"],
        "created_at": r["created_at"],
        "updated_at": r["updated_at"],
    }


class ProjectService:
    """Project routes for one authenticated caller at a time."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def create(self, auth: AuthContext, body: Any) -> dict[str, Any]:
        """Create a project (names are unique per user)."""
        auth.require("write")
        q = PROJECT.parse(body)

        def tx(conn: Any) -> dict[str, Any]:
            if conn.execute(
                "SELECT 1 FROM projects WHERE user_id = ? AND name = ?", (auth.user_id, q["name"])
            ).fetchone():
                raise Conflict(f"project {q['name']!r} exists already")
            now = now_iso()
            cur = conn.execute(
                "INSERT INTO projects (user_id, name, description, status, created_at, updated_at) VALUES"
                " (?, ?, ?, ?, ?, ?)",
                (auth.user_id, q["name"], q["description"] or "", q["status"], now, now),
            )
            audit.record(conn, auth, "project.create", "project", int(cur.lastrowid))
            return project_dict(owned_row(conn, "projects", auth.user_id, int(cur.lastrowid), "project"))

        return await self.db.awrite(tx)

    async def list(self, auth: AuthContext, query: Any) -> dict[str, Any]:
        """The caller's projects with their memory counts."""
        auth.require("read")
        q = PROJECT_LIST.parse(query)
        sql = (
            "SELECT p.*, (SELECT count(*) FROM project_memories pm WHERE pm.project_id = p.id) AS"
            " memory_count"
            " FROM projects p WHERE p.user_id = ?"
        )
        args: list[Any] = [auth.user_id]
        if q["status"]:
            sql += " AND p.status = ?"
            args.append(q["status"])
        rows = await self.db.aread(
            lambda c: c.execute(sql + " ORDER BY p.updated_at DESC LIMIT ?", (*args, q["limit"])).fetchall()
        )
        projects = [{**project_dict(r), "memory_count": r["memory_count"]} for r in rows]
        return {"projects": projects, "count": len(projects)}

    async def get(self, auth: AuthContext, project_id: int) -> dict[str, Any]:
        """One project with its visible memories."""
        auth.require("read")

        def run(conn: Any) -> dict[str, Any]:
            row = owned_row(conn, "projects", auth.user_id, project_id, "project")
            sql = (
                "SELECT m.* FROM project_memories pm JOIN memories m ON m.id = pm.memory_id"
                " WHERE pm.project_id = :p AND m.user_id = :user AND " + VISIBLE + " ORDER BY pm.added_at"
            )
            found = memory_summaries(conn, sql, {"p": project_id, "user": auth.user_id, "now": now_iso()})
            return {**project_dict(row), "memories": found, "memory_count": len(found)}

        return await self.db.aread(run)

    async def update(self, auth: AuthContext, project_id: int, body: Any) -> dict[str, Any]:
        """Change a project's name, description or status."""
        auth.require("write")
        q = PROJECT_UPDATE.parse(body, partial=True)

        def tx(conn: Any) -> dict[str, Any]:
            owned_row(conn, "projects", auth.user_id, project_id, "project")
            if (
                "name" in q
                and conn.execute(
                    "SELECT 1 FROM projects WHERE user_id = ? AND name = ? AND id != ?",
                    (auth.user_id, q["name"], project_id),
                ).fetchone()
            ):
                raise Conflict(f"project {q['name']!r} exists already")
            return project_dict(update_fields(conn, auth, "projects", "project", project_id, q, _COLUMNS))

        return await self.db.awrite(tx)

    async def delete(self, auth: AuthContext, project_id: int) -> dict[str, Any]:
        """Delete a project (its memories stay)."""
        auth.require("write")

        def tx(conn: Any) -> dict[str, Any]:
            owned_row(conn, "projects", auth.user_id, project_id, "project")
            conn.execute("DELETE FROM projects WHERE id = ?", (project_id,))
            audit.record(conn, auth, "project.delete", "project", project_id)
            return {"deleted": True, "id": project_id}

        return await self.db.awrite(tx)

    async def add_memory(self, auth: AuthContext, project_id: int, memory_id: int) -> dict[str, Any]:
        """Put one of the caller's memories in a project (idempotent)."""
        auth.require("write")

        def tx(conn: Any) -> dict[str, Any]:
            owned_row(conn, "projects", auth.user_id, project_id, "project")
            require_memories(conn, auth.user_id, [memory_id])
            cur = conn.execute(
                "INSERT OR IGNORE INTO project_memories (project_id, memory_id, user_id, added_at) VALUES (?, ?, ?, ?)",
                (project_id, memory_id, auth.user_id, now_iso()),
            )
            conn.execute("UPDATE projects SET updated_at = ? WHERE id = ?", (now_iso(), project_id))
            audit.record(conn, auth, "project.add_memory", "project", project_id, {"memory_id": memory_id})
            return {"project_id": project_id, "memory_id": memory_id, "added": bool(cur.rowcount)}

        return await self.db.awrite(tx)

    async def remove_memory(self, auth: AuthContext, project_id: int, memory_id: int) -> dict[str, Any]:
        """Take a memory out of a project."""
        auth.require("write")

        def tx(conn: Any) -> dict[str, Any]:
            owned_row(conn, "projects", auth.user_id, project_id, "project")
            cur = conn.execute(
                "DELETE FROM project_memories WHERE project_id = ? AND memory_id = ?", (project_id, memory_id)
            )
            audit.record(conn, auth, "project.remove_memory", "project", project_id, {"memory_id": memory_id})
            return {"project_id": project_id, "memory_id": memory_id, "removed": bool(cur.rowcount)}

        return await self.db.awrite(tx)
