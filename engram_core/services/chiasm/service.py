"""Tasks: create, list, change (each change appends a history row and publishes ``task.*`` on the
``tasks`` channel in the same transaction), delete, history, stats and the feed."""

from __future__ import annotations

from typing import Any

from ...auth.context import AuthContext
from ...storage.database import Database
from ...storage.owned import owned_row
from ...timeutil import now_iso
from ...validation import Field, Schema
from ..axon import AxonService, Publisher
from ..common import filters, json_dump, row_dict

__all__ = ["FEED", "HISTORY", "TASK", "TASK_LIST", "TASK_UPDATE", "TaskService", "create_tx", "update_tx"]

STATUSES = ("active", "paused", "blocked", "completed", "cancelled")
PRIORITIES = ("normal", "low", "high", "urgent")
CHANNEL = "tasks"
TASK = Schema(
    Field("title", "text", required=True, max_len=1000),
    Field("agent", "str", default="", max_len=200, aliases=("assignee",)),
    Field("project", "str", default="", max_len=200),
    Field("status", "str", default="active", choices=STATUSES),
    Field("priority", "str", default="normal", choices=PRIORITIES),
    Field("summary", "str", default="", max_len=10000),
    description="Create a task.",
)
TASK_UPDATE = Schema(
    Field("title", "text", max_len=1000),
    Field("agent", "str", max_len=200, aliases=("assignee",)),
    Field("project", "str", max_len=200),
    Field("status", "str", choices=STATUSES),
    Field("priority", "str", choices=PRIORITIES),
    Field("summary", "str", max_len=10000),
    description="Change a task (only the fields given); a history row records it.",
)
TASK_LIST = Schema(
    Field("status", "str", choices=STATUSES),
    Field("agent", "str", max_len=200, aliases=("assignee",)),
    Field("project", "str", max_len=200),
    Field("priority", "str", choices=PRIORITIES),
    Field("limit", "int", default=500, min=1, max=1000),
    Field("offset", "int", default=0, min=0),
)
HISTORY = Schema(Field("limit", "int", default=100, min=1, max=1000))
FEED = Schema(Field("limit", "int", default=100, min=1, max=1000), Field("offset", "int", default=0, min=0))
_FIELDS = ("title", "agent", "project", "status", "priority", "summary")


def task_dict(r: Any) -> dict[str, Any]:
    return {**row_dict(r), "assignee": r["agent"]}


def _history(conn: Any, user_id: int, task: Any, changes: dict[str, Any]) -> None:
    conn.execute(
        "INSERT INTO task_history (user_id, task_id, agent, status, priority, summary, changes, created_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (user_id, task["id"], task["agent"], task["status"], task["priority"], task["summary"], json_dump(changes),
         now_iso()),
    )  # fmt: skip


def create_tx(conn: Any, pub: Publisher, user_id: int, q: dict[str, Any]) -> dict[str, Any]:
    """Insert a task, its first history row and a ``task.created`` event, in the caller's transaction."""
    now = now_iso()
    cur = conn.execute(
        "INSERT INTO tasks (user_id, title, agent, project, status, priority, summary, created_at, updated_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (user_id, *(q[f] for f in _FIELDS), now, now),
    )
    row = owned_row(conn, "tasks", user_id, int(cur.lastrowid), "task")
    _history(conn, user_id, row, {f: q[f] for f in _FIELDS})
    task = task_dict(row)
    pub.publish(user_id, CHANNEL, "task.created", task, q["agent"] or "chiasm")
    return task


def update_tx(conn: Any, pub: Publisher, user_id: int, task_id: int, q: dict[str, Any]) -> dict[str, Any]:
    """Change a task; always appends a history row (what changed) and publishes ``task.updated``."""
    old = owned_row(conn, "tasks", user_id, task_id, "task")
    changes = {f: q[f] for f in _FIELDS if f in q and q[f] is not None and q[f] != old[f]}
    if changes:
        sets = ", ".join(f"{f} = ?" for f in changes)
        conn.execute(f"UPDATE tasks SET {sets}, updated_at = ? WHERE id = ?", (*changes.values(), now_iso(), task_id))
    row = owned_row(conn, "tasks", user_id, task_id, "task")
    _history(conn, user_id, row, changes)
    task = task_dict(row)
    pub.publish(user_id, CHANNEL, "task.updated", {**task, "changes": changes}, row["agent"] or "chiasm")
    return task


class TaskService:
    def __init__(self, db: Database, axon: AxonService) -> None:
        self.db = db
        self.axon = axon

    async def create(self, auth: AuthContext, body: Any) -> dict[str, Any]:
        q = TASK.parse(body)
        return await self.axon.write(lambda conn, pub: create_tx(conn, pub, auth.user_id, q))

    async def list(self, auth: AuthContext, query: Any) -> dict[str, Any]:
        q = TASK_LIST.parse(query)
        cols = {"status": "status", "agent": "agent", "project": "project", "priority": "priority"}
        sql, args = filters("SELECT * FROM tasks", auth.user_id, q, cols)

        def run(conn: Any) -> tuple[list[Any], int]:
            rows = conn.execute(sql + " ORDER BY updated_at DESC, id DESC LIMIT ? OFFSET ?",
                                (*args, q["limit"], q["offset"])).fetchall()  # fmt: skip
            total = conn.execute(sql.replace("SELECT *", "SELECT count(*)", 1), args).fetchone()[0]
            return rows, int(total)

        rows, total = await self.db.aread(run)
        return {"tasks": [task_dict(r) for r in rows], "count": len(rows), "total": total}

    async def get(self, auth: AuthContext, task_id: int) -> dict[str, Any]:
        return task_dict(await self.db.aread(lambda c: owned_row(c, "tasks", auth.user_id, task_id, "task")))

    async def update(self, auth: AuthContext, task_id: int, body: Any) -> dict[str, Any]:
        q = TASK_UPDATE.parse(body, partial=True)
        return await self.axon.write(lambda conn, pub: update_tx(conn, pub, auth.user_id, task_id, q))

    async def delete(self, auth: AuthContext, task_id: int) -> dict[str, Any]:
        def tx(conn: Any, pub: Publisher) -> dict[str, Any]:
            row = owned_row(conn, "tasks", auth.user_id, task_id, "task")
            conn.execute("DELETE FROM tasks WHERE id = ?", (task_id,))
            conn.execute("DELETE FROM task_history WHERE task_id = ? AND user_id = ?", (task_id, auth.user_id))
            pub.publish(auth.user_id, CHANNEL, "task.deleted", task_dict(row), "chiasm")
            return {"ok": True, "deleted": True, "id": task_id}

        return await self.axon.write(tx)

    async def history(self, auth: AuthContext, task_id: int, query: Any) -> dict[str, Any]:
        q = HISTORY.parse(query)

        def run(conn: Any) -> list[dict[str, Any]]:
            owned_row(conn, "tasks", auth.user_id, task_id, "task")
            rows = conn.execute(
                "SELECT * FROM task_history WHERE user_id = ? AND task_id = ? ORDER BY id DESC LIMIT ?",
                (auth.user_id, task_id, q["limit"]),
            ).fetchall()
            return [row_dict(r, ("changes",)) for r in rows]

        history = await self.db.aread(run)
        return {"history": history, "count": len(history)}

    async def stats(self, auth: AuthContext) -> dict[str, Any]:
        def run(conn: Any) -> dict[str, Any]:
            by = {}
            for col in ("status", "agent", "project", "priority"):
                rows = conn.execute(f"SELECT {col}, count(*) FROM tasks WHERE user_id = ? GROUP BY {col}",
                                    (auth.user_id,)).fetchall()  # fmt: skip
                by[col] = {r[0]: r[1] for r in rows}
            total = sum(by["status"].values())
            return {"total": total, "active": by["status"].get("active", 0), "by_status": by["status"],
                    "by_agent": by["agent"], "by_project": by["project"], "by_priority": by["priority"]}  # fmt: skip

        return await self.db.aread(run)

    async def feed(self, auth: AuthContext, query: Any) -> dict[str, Any]:
        """Tasks by last change (``items``), and the latest changes themselves (``updates``)."""
        q = FEED.parse(query)

        def run(conn: Any) -> dict[str, Any]:
            rows = conn.execute(
                "SELECT * FROM tasks WHERE user_id = ? ORDER BY updated_at DESC, id DESC LIMIT ? OFFSET ?",
                (auth.user_id, q["limit"], q["offset"]),
            ).fetchall()
            total = conn.execute("SELECT count(*) FROM tasks WHERE user_id = ?", (auth.user_id,)).fetchone()[0]
            updates = conn.execute(
                "SELECT h.*, t.title, t.project FROM task_history h JOIN tasks t ON t.id = h.task_id"
                " WHERE h.user_id = ? ORDER BY h.id DESC LIMIT ? OFFSET ?",
                (auth.user_id, q["limit"], q["offset"]),
            ).fetchall()
            items = [row_dict(task_dict(r), drop=("user_id",)) for r in rows]
            return {"items": items, "total": total, "updates": [row_dict(u, ("changes",)) for u in updates]}

        return await self.db.aread(run)
