"""Episodes: ordered runs of memories from one stretch of work (a session), open until finalized."""

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
from .common import ids_field, memory_summaries, require_memories, update_fields

__all__ = ["EPISODE", "EPISODE_LIST", "EPISODE_MEMORIES", "EPISODE_PATCH", "FINALIZE", "EpisodeService"]

EPISODE = Schema(
    Field("title", "text", required=True, max_len=300),
    Field("summary", "str", max_len=20000),
    Field("session_id", "str", max_len=200),
    Field("started_at", "timestamp", help="Default now."),
    description="Start an episode.",
)
EPISODE_PATCH = Schema(
    Field("title", "text", max_len=300),
    Field("summary", "str", max_len=20000),
    description="Change an episode's title or summary.",
)
EPISODE_LIST = Schema(
    Field("status", "str", choices=("open", "finalized")),
    Field("session_id", "str", max_len=200),
    Field("limit", "int", default=50, min=1, max=500),
)
EPISODE_MEMORIES = Schema(ids_field(required=True), description="Append memories to an episode, in order.")
FINALIZE = Schema(Field("summary", "str", max_len=20000), description="Close an episode.")
_COLUMNS = {"title": "title", "summary": "summary"}


def episode_dict(r: Any) -> dict[str, Any]:
    """The public shape of an episode row."""
    return {
        "id": r["id"],
        "title": r["title"],
        "summary": r["summary"],
        "session_id": r["session_id"],
        "status": r["status"],
        "started_at": r["started_at"],
        "ended_at": r["ended_at"],
        "created_at": r["created_at"],
        "updated_at": r["updated_at"],
    }


class EpisodeService:
    """Episode routes for one authenticated caller at a time."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def create(self, auth: AuthContext, body: Any) -> dict[str, Any]:
        """Start an episode."""
        auth.require("write")
        q = EPISODE.parse(body)

        def tx(conn: Any) -> dict[str, Any]:
            now = now_iso()
            cur = conn.execute(
                "INSERT INTO episodes (user_id, title, summary, session_id, started_at, created_at,"
                " updated_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    auth.user_id,
                    q["title"],
                    q["summary"] or "",
                    q["session_id"],
                    q["started_at"] or now,
                    now,
                    now,
                ),
            )
            audit.record(conn, auth, "episode.create", "episode", int(cur.lastrowid))
            return episode_dict(owned_row(conn, "episodes", auth.user_id, int(cur.lastrowid), "episode"))

        return await self.db.awrite(tx)

    async def list(self, auth: AuthContext, query: Any) -> dict[str, Any]:
        """The caller's episodes, newest first."""
        auth.require("read")
        q = EPISODE_LIST.parse(query)
        sql = (
            "SELECT e.*, (SELECT count(*) FROM episode_memories em WHERE em.episode_id = e.id) AS"
            " memory_count"
            " FROM episodes e WHERE e.user_id = ?"
        )
        args: list[Any] = [auth.user_id]
        for name in ("status", "session_id"):
            if q[name]:
                sql += f" AND e.{name} = ?"
                args.append(q[name])
        rows = await self.db.aread(
            lambda c: c.execute(sql + " ORDER BY e.started_at DESC, e.id DESC LIMIT ?", (*args, q["limit"])).fetchall()
        )
        episodes = [{**episode_dict(r), "memory_count": r["memory_count"]} for r in rows]
        return {"episodes": episodes, "count": len(episodes)}

    async def get(self, auth: AuthContext, episode_id: int) -> dict[str, Any]:
        """One episode with its visible memories in order."""
        auth.require("read")

        def run(conn: Any) -> dict[str, Any]:
            row = owned_row(conn, "episodes", auth.user_id, episode_id, "episode")
            sql = (
                "SELECT m.* FROM episode_memories em JOIN memories m ON m.id = em.memory_id"
                " WHERE em.episode_id = :e AND m.user_id = :user AND " + VISIBLE + " ORDER BY em.position"
            )
            found = memory_summaries(conn, sql, {"e": episode_id, "user": auth.user_id, "now": now_iso()})
            return {**episode_dict(row), "memories": found, "memory_count": len(found)}

        return await self.db.aread(run)

    async def patch(self, auth: AuthContext, episode_id: int, body: Any) -> dict[str, Any]:
        """Change an episode's title or summary."""
        auth.require("write")
        q = EPISODE_PATCH.parse(body, partial=True)

        def tx(conn: Any) -> dict[str, Any]:
            owned_row(conn, "episodes", auth.user_id, episode_id, "episode")
            return episode_dict(update_fields(conn, auth, "episodes", "episode", episode_id, q, _COLUMNS))

        return await self.db.awrite(tx)

    async def add_memories(self, auth: AuthContext, episode_id: int, body: Any) -> dict[str, Any]:
        """Append memories to an open episode (already-present ones keep their place)."""
        auth.require("write")
        ids = EPISODE_MEMORIES.parse(body)["memory_ids"]

        def tx(conn: Any) -> dict[str, Any]:
            row = owned_row(conn, "episodes", auth.user_id, episode_id, "episode")
            if row["status"] != "open":
                raise Conflict(f"episode {episode_id} is finalized")
            require_memories(conn, auth.user_id, ids)
            pos = conn.execute(
                "SELECT coalesce(max(position), 0) FROM episode_memories WHERE episode_id = ?", (episode_id,)
            ).fetchone()[0]
            added, now = 0, now_iso()
            for mid in ids:
                cur = conn.execute(
                    "INSERT OR IGNORE INTO episode_memories (episode_id, memory_id, user_id, position,"
                    " added_at) VALUES (?, ?, ?, ?, ?)",
                    (episode_id, mid, auth.user_id, pos + 1, now),
                )
                pos += cur.rowcount
                added += cur.rowcount
            conn.execute("UPDATE episodes SET updated_at = ? WHERE id = ?", (now, episode_id))
            audit.record(conn, auth, "episode.add_memories", "episode", episode_id, {"memory_ids": ids})
            return {"episode_id": episode_id, "added": added}

        return await self.db.awrite(tx)

    async def finalize(self, auth: AuthContext, episode_id: int, body: Any) -> dict[str, Any]:
        """Close an episode (sets ended_at; an optional final summary)."""
        auth.require("write")
        summary = FINALIZE.parse(body)["summary"]

        def tx(conn: Any) -> dict[str, Any]:
            row = owned_row(conn, "episodes", auth.user_id, episode_id, "episode")
            if row["status"] != "open":
                raise Conflict(f"episode {episode_id} is finalized already")
            now = now_iso()
            conn.execute(
                "UPDATE episodes SET status = 'finalized', ended_at = ?, summary = ?, updated_at = ? WHERE id = ?",
                (now, summary if summary is not None else row["summary"], now, episode_id),
            )
            audit.record(conn, auth, "episode.finalize", "episode", episode_id)
            return episode_dict(owned_row(conn, "episodes", auth.user_id, episode_id, "episode"))

        return await self.db.awrite(tx)
