"""Conversations and their messages, with full-text search over messages (FTS5, ``messages_fts``)."""

from __future__ import annotations

import json
from typing import Any

from ..auth import audit
from ..auth.context import AuthContext
from ..model.fts import build_match
from ..storage.database import Database
from ..storage.owned import owned_row
from ..timeutil import now_iso
from ..validation import Field, Schema
from .common import update_fields

__all__ = [
    "CONVERSATION",
    "CONVERSATION_LIST",
    "ConversationService",
    "MESSAGE",
    "MESSAGE_PAGE",
    "MESSAGE_SEARCH",
]

CONVERSATION = Schema(
    Field("title", "str", max_len=300),
    Field("agent", "str", max_len=100),
    Field("session_id", "str", max_len=200),
    Field("metadata", "object"),
    description="Start a conversation.",
)
CONVERSATION_LIST = Schema(
    Field("session_id", "str", max_len=200),
    Field("limit", "int", default=50, min=1, max=500),
    Field("offset", "int", default=0, min=0),
)
MESSAGE = Schema(
    Field("role", "str", default="user", choices=("user", "assistant", "system", "tool")),
    Field("content", "text", required=True, max_len=200_000),
    description="Append a message to a conversation.",
)
MESSAGE_PAGE = Schema(Field("limit", "int", default=200, min=1, max=2000), Field("offset", "int", default=0, min=0))
MESSAGE_SEARCH = Schema(
    Field("query", "text", required=True, max_len=2000),
    Field("conversation_id", "int", min=1),
    Field("role", "str", choices=("user", "assistant", "system", "tool")),
    Field("limit", "int", default=20, min=1, max=200),
    description="Full-text search over the caller's messages.",
)
_COLUMNS = {"title": "title", "agent": "agent", "session_id": "session_id", "metadata": "metadata"}


def conversation_dict(r: Any) -> dict[str, Any]:
    """The public shape of a conversation row."""
    return {
        "id": r["id"],
        "title": r["title"],
        "agent": r["agent"],
        "session_id": r["session_id"],
        "metadata": json.loads(r["metadata"]),
        "created_at": r["created_at"],
        "updated_at": r["updated_at"],
    }


def message_dict(r: Any) -> dict[str, Any]:
    """The public shape of a message row."""
    return {
        "id": r["id"],
        "conversation_id": r["conversation_id"],
        "role": r["role"],
        "content": r["content"],
        "created_at": r["created_at"],
    }


class ConversationService:
    """Conversation and message routes for one authenticated caller at a time."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def create(self, auth: AuthContext, body: Any) -> dict[str, Any]:
        """Start a conversation."""
        auth.require("write")
        q = CONVERSATION.parse(body)

        def tx(conn: Any) -> dict[str, Any]:
            now = now_iso()
            cur = conn.execute(
                "INSERT INTO conversations (user_id, title, agent, session_id, metadata, created_at,"
                " updated_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    auth.user_id,
                    q["title"] or "",
                    q["agent"] or "",
                    q["session_id"],
                    json.dumps(q["metadata"] or {}),
                    now,
                    now,
                ),
            )
            audit.record(conn, auth, "conversation.create", "conversation", int(cur.lastrowid))
            return conversation_dict(owned_row(conn, "conversations", auth.user_id, int(cur.lastrowid), "conversation"))

        return await self.db.awrite(tx)

    async def list(self, auth: AuthContext, query: Any) -> dict[str, Any]:
        """The caller's conversations, most recently active first, with message counts."""
        auth.require("read")
        q = CONVERSATION_LIST.parse(query)
        sql = (
            "SELECT c.*, (SELECT count(*) FROM messages x WHERE x.conversation_id = c.id) AS message_count"
            " FROM conversations c WHERE c.user_id = ?"
        )
        args: list[Any] = [auth.user_id]
        if q["session_id"]:
            sql += " AND c.session_id = ?"
            args.append(q["session_id"])
        sql += " ORDER BY c.updated_at DESC, c.id DESC LIMIT ? OFFSET ?"
        rows = await self.db.aread(lambda c: c.execute(sql, (*args, q["limit"], q["offset"])).fetchall())
        found = [{**conversation_dict(r), "message_count": r["message_count"]} for r in rows]
        return {"conversations": found, "count": len(found)}

    async def get(self, auth: AuthContext, conversation_id: int) -> dict[str, Any]:
        """One conversation with its message count."""
        auth.require("read")

        def run(conn: Any) -> dict[str, Any]:
            row = owned_row(conn, "conversations", auth.user_id, conversation_id, "conversation")
            n = conn.execute("SELECT count(*) FROM messages WHERE conversation_id = ?", (conversation_id,)).fetchone()[
                0
            ]
            return {**conversation_dict(row), "message_count": n}

        return await self.db.aread(run)

    async def patch(self, auth: AuthContext, conversation_id: int, body: Any) -> dict[str, Any]:
        """Change a conversation's title, agent, session or metadata."""
        auth.require("write")
        q = CONVERSATION.parse(body, partial=True)

        def tx(conn: Any) -> dict[str, Any]:
            owned_row(conn, "conversations", auth.user_id, conversation_id, "conversation")
            row = update_fields(conn, auth, "conversations", "conversation", conversation_id, q, _COLUMNS)
            return conversation_dict(row)

        return await self.db.awrite(tx)

    async def delete(self, auth: AuthContext, conversation_id: int) -> dict[str, Any]:
        """Delete a conversation and its messages."""
        auth.require("write")

        def tx(conn: Any) -> dict[str, Any]:
            owned_row(conn, "conversations", auth.user_id, conversation_id, "conversation")
            conn.execute("DELETE FROM messages WHERE conversation_id = ?", (conversation_id,))
            conn.execute("DELETE FROM conversations WHERE id = ?", (conversation_id,))
            audit.record(conn, auth, "conversation.delete", "conversation", conversation_id)
            return {"deleted": True, "id": conversation_id}

        return await self.db.awrite(tx)

    async def add_message(self, auth: AuthContext, conversation_id: int, body: Any) -> dict[str, Any]:
        """Append a message to a conversation."""
        auth.require("write")
        q = MESSAGE.parse(body)

        def tx(conn: Any) -> dict[str, Any]:
            owned_row(conn, "conversations", auth.user_id, conversation_id, "conversation")
            now = now_iso()
            cur = conn.execute(
                "INSERT INTO messages (user_id, conversation_id, role, content, created_at) VALUES (?, ?, ?, ?, ?)",
                (auth.user_id, conversation_id, q["role"], q["content"], now),
            )
            conn.execute("UPDATE conversations SET updated_at = ? WHERE id = ?", (now, conversation_id))
            audit.record(conn, auth, "message.create", "message", int(cur.lastrowid))
            return message_dict(conn.execute("SELECT * FROM messages WHERE id = ?", (cur.lastrowid,)).fetchone())

        return await self.db.awrite(tx)

    async def messages(self, auth: AuthContext, conversation_id: int, query: Any) -> dict[str, Any]:
        """Messages of a conversation, oldest first."""
        auth.require("read")
        q = MESSAGE_PAGE.parse(query)

        def run(conn: Any) -> list[dict[str, Any]]:
            owned_row(conn, "conversations", auth.user_id, conversation_id, "conversation")
            rows = conn.execute(
                "SELECT * FROM messages WHERE conversation_id = ? AND user_id = ? ORDER BY id LIMIT ? OFFSET ?",
                (conversation_id, auth.user_id, q["limit"], q["offset"]),
            )
            return [message_dict(r) for r in rows]

        found = await self.db.aread(run)
        return {"conversation_id": conversation_id, "messages": found, "count": len(found)}

    async def search(self, auth: AuthContext, body: Any) -> dict[str, Any]:
        """Full-text search over the caller's messages (BM25, best first)."""
        auth.require("read")
        q = MESSAGE_SEARCH.parse(body)
        match = build_match(q["query"])
        if match is None:
            return {"results": [], "count": 0}
        sql = (
            "SELECT x.*, bm25(messages_fts) AS rank FROM messages_fts JOIN messages x ON x.id ="
            " messages_fts.rowid"
            " WHERE messages_fts MATCH :match AND x.user_id = :user"
        )
        params: dict[str, Any] = {"match": match, "user": auth.user_id, "limit": q["limit"]}
        for name in ("conversation_id", "role"):
            if q[name] is not None:
                sql += f" AND x.{name} = :{name}"
                params[name] = q[name]
        rows = await self.db.aread(lambda c: c.execute(sql + " ORDER BY rank LIMIT :limit", params).fetchall())
        found = [{**message_dict(r), "score": round(-r["rank"], 6)} for r in rows]
        return {"results": found, "count": len(found)}
