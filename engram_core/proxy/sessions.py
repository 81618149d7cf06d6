"""Working memory for one conversation: a session's messages (short-term), its pinned facts (core memory),
and a token-budgeted context that joins them with the user's long-term memories.

* Messages are idempotent by the client's ``message_id``: a retried post returns the stored message.
* Only the newest ``ENGRAM_SESSION_WINDOW`` messages stay short-term. Older ones are handed to ``POST /add``'s
  core (the durable facts in them become memories; nothing is copied verbatim) and marked archived, after the
  answer, off the request path, one session at a time.
* ``context(max_tokens)``: core memory first (pinned facts, then the user's static memories), then the
  memories relevant to the latest user message, then the most recent messages, newest first, as whole
  user/assistant turns (a turn that does not fit is left out whole, never split). Every part is counted with
  the embedding model's tokenizer and the result never exceeds the budget.
"""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from typing import Any

from ..auth.context import AuthContext
from ..errors import NotFound
from ..timeutil import now_iso
from ..validation import Field, Schema
from .deps import ProxyDeps
from .inject import retrieve

__all__ = ["CORE", "CREATE", "LIST", "MESSAGE", "SESSION_CONTEXT", "SessionService"]

log = logging.getLogger("engram.sessions")

CREATE = Schema(
    Field("agent", "text", required=True, max_len=200, help="Who the conversation is with."),
    description="Start a working-memory session.",
)
LIST = Schema(Field("limit", "int", default=50, min=1, max=500), Field("offset", "int", default=0, min=0))
MESSAGE = Schema(
    Field("role", "str", required=True, choices=("user", "assistant", "system")),
    Field("content", "text", required=True, max_len=64 * 1024),
    Field("message_id", "text", required=True, max_len=200, help="The client's id: a retried post is a no-op."),
    description="Add a message to a session (idempotent by message_id).",
)
CORE = Schema(
    Field("facts", "str_list", required=True, max_items=50, help="Pinned facts, always first in the context."),
    description="Replace a session's core memory (pinned facts).",
)
SESSION_CONTEXT = Schema(
    Field("max_tokens", "int", default=2000, min=50, max=200_000),
    Field("query", "str", max_len=10_000, help="What to retrieve memories for (default: the latest user message)."),
)  # fmt: skip
MEMORY_SHARE = 0.4  # of what the core memory leaves: at most this much goes to long-term memories


def _session(r: Any) -> dict[str, Any]:
    return {"id": r["id"], "agent": r["agent"], "user_id": r["user_id"], "status": r["status"],
            "core_memory": json.loads(r["core_memory"]), "created_at": r["created_at"],
            "updated_at": r["updated_at"]}  # fmt: skip


def _message(r: Any) -> dict[str, Any]:
    return {"id": r["id"], "message_id": r["client_id"], "role": r["role"], "content": r["content"],
            "archived": bool(r["archived"]), "created_at": r["created_at"]}  # fmt: skip


def _owned(conn: Any, user_id: int, session_id: str) -> Any:
    row = conn.execute("SELECT * FROM sessions WHERE id = ? AND user_id = ?", (session_id, user_id)).fetchone()
    if row is None:
        raise NotFound(f"session {session_id} not found")
    return row


def turns(messages: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    """Messages (oldest first) grouped into turns: a user message with the replies after it."""
    out: list[list[dict[str, Any]]] = []
    for m in messages:
        if m["role"] == "user" or not out:
            out.append([m])
        else:
            out[-1].append(m)
    return out


class SessionService:
    def __init__(self, deps: ProxyDeps) -> None:
        self.deps = deps
        self.db = deps.db
        self._locks: dict[str, asyncio.Lock] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    async def create(self, auth: AuthContext, body: Any) -> dict[str, Any]:
        auth.require("write")
        q = CREATE.parse(body)
        sid, now = str(uuid.uuid4()), now_iso()

        def tx(conn: Any) -> dict[str, Any]:
            conn.execute("INSERT INTO sessions (id, user_id, agent, created_at, updated_at) VALUES (?, ?, ?, ?, ?)",
                         (sid, auth.user_id, q["agent"], now, now))  # fmt: skip
            return _session(_owned(conn, auth.user_id, sid))

        return await self.db.awrite(tx)

    async def list(self, auth: AuthContext, query: dict[str, Any]) -> dict[str, Any]:
        auth.require("read")
        q = LIST.parse(query)
        rows = await self.db.aread(lambda conn: conn.execute(
            "SELECT * FROM sessions WHERE user_id = ? ORDER BY created_at DESC, id LIMIT ? OFFSET ?",
            (auth.user_id, q["limit"], q["offset"])).fetchall())  # fmt: skip
        return {"sessions": [_session(r) for r in rows], "count": len(rows)}

    async def get(self, auth: AuthContext, session_id: str) -> dict[str, Any]:
        auth.require("read")

        def run(conn: Any) -> dict[str, Any]:
            session = _session(_owned(conn, auth.user_id, session_id))
            rows = conn.execute("SELECT * FROM session_messages WHERE user_id = ? AND session_id = ? ORDER BY id",
                                (auth.user_id, session_id)).fetchall()  # fmt: skip
            messages = [_message(r) for r in rows]
            return {"session": session, "messages": messages,
                    "output": [f"{m['role']}: {m['content']}" for m in messages]}  # fmt: skip

        return await self.db.aread(run)

    async def delete(self, auth: AuthContext, session_id: str) -> dict[str, Any]:
        auth.require("write")

        def tx(conn: Any) -> dict[str, Any]:
            _owned(conn, auth.user_id, session_id)
            conn.execute(
                "DELETE FROM session_messages WHERE user_id = ? AND session_id = ?", (auth.user_id, session_id)
            )
            conn.execute("DELETE FROM scratch WHERE user_id = ? AND session = ?", (auth.user_id, session_id))
            conn.execute("DELETE FROM sessions WHERE user_id = ? AND id = ?", (auth.user_id, session_id))
            return {"deleted": True, "id": session_id}

        return await self.db.awrite(tx)

    async def set_core(self, auth: AuthContext, session_id: str, body: Any) -> dict[str, Any]:
        auth.require("write")
        facts = [f.strip() for f in CORE.parse(body)["facts"] if f.strip()]

        def tx(conn: Any) -> dict[str, Any]:
            _owned(conn, auth.user_id, session_id)
            conn.execute("UPDATE sessions SET core_memory = ?, updated_at = ? WHERE id = ? AND user_id = ?",
                         (json.dumps(facts), now_iso(), session_id, auth.user_id))  # fmt: skip
            return {"session_id": session_id, "core_memory": facts}

        return await self.db.awrite(tx)

    async def add_message(self, auth: AuthContext, session_id: str, body: Any) -> tuple[bool, dict[str, Any]]:
        """``(created, message)``: ``created`` is False when the client's message_id was stored already."""
        auth.require("write")
        q = MESSAGE.parse(body)

        def tx(conn: Any) -> tuple[bool, dict[str, Any]]:
            _owned(conn, auth.user_id, session_id)
            found = conn.execute(
                "SELECT * FROM session_messages WHERE user_id = ? AND session_id = ? AND client_id = ?",
                (auth.user_id, session_id, q["message_id"]),
            ).fetchone()
            if found is not None:
                return False, _message(found)
            now = now_iso()
            cur = conn.execute(
                "INSERT INTO session_messages (user_id, session_id, client_id, role, content, created_at)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (auth.user_id, session_id, q["message_id"], q["role"], q["content"], now),
            )
            conn.execute("UPDATE sessions SET updated_at = ? WHERE id = ?", (now, session_id))
            row = conn.execute("SELECT * FROM session_messages WHERE id = ?", (cur.lastrowid,)).fetchone()
            return True, _message(row)

        created, message = await self.db.awrite(tx)
        if created:
            task = asyncio.ensure_future(self._roll_window(auth, session_id))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        return created, message

    async def _roll_window(self, auth: AuthContext, session_id: str) -> None:
        """Extract the whole turns past the short-term window into long-term memories, then archive them.

        The window counts messages, but a turn (a user message and the replies after it) leaves it whole: while
        the oldest message still inside the window is a reply, its user message stays too. So the short-term
        messages never start with an answer whose question was archived, whenever ``/context`` reads them.
        """
        window = max(1, self.deps.settings.session_window)
        async with self._locks.setdefault(session_id, asyncio.Lock()):
            rows = await self.db.aread(lambda conn: conn.execute(
                "SELECT * FROM session_messages WHERE user_id = ? AND session_id = ? AND archived = 0"
                " ORDER BY id", (auth.user_id, session_id)).fetchall())  # fmt: skip
            cut = len(rows) - window
            while cut > 0 and rows[cut]["role"] != "user":  # not between a question and its answers
                cut -= 1
            if cut <= 0:
                return
            old = rows[:cut]
            messages = [{"role": r["role"], "content": r["content"]} for r in old]
            try:
                await self.deps.extract.add(auth, {"messages": messages, "source": "session", "session_id": session_id})
            except Exception:
                log.exception("extracting session %s's old messages failed; they stay short-term", session_id)
                return
            ids = [r["id"] for r in old]
            marks = ",".join("?" * len(ids))
            await self.db.awrite(lambda conn: conn.execute(
                f"UPDATE session_messages SET archived = 1 WHERE user_id = ? AND id IN ({marks})",
                (auth.user_id, *ids)))  # fmt: skip

    async def settle(self) -> None:
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def context(self, auth: AuthContext, session_id: str, query: dict[str, Any]) -> dict[str, Any]:
        """Core memory + relevant long-term memories + recent whole turns, within ``max_tokens``."""
        auth.require("read")
        q = SESSION_CONTEXT.parse(query)
        budget = q["max_tokens"]
        count = self.deps.vectors.count_tokens

        def run(conn: Any) -> tuple[dict[str, Any], list[dict[str, Any]]]:
            session = _session(_owned(conn, auth.user_id, session_id))
            rows = conn.execute("SELECT * FROM session_messages WHERE user_id = ? AND session_id = ? AND archived = 0"
                                " ORDER BY id", (auth.user_id, session_id)).fetchall()  # fmt: skip
            return session, [_message(r) for r in rows]

        session, messages = await self.db.aread(run)
        parts: list[str] = []
        used = 0
        pinned: list[str] = []
        for fact in session["core_memory"]:
            section = "## Core memory\n" + "".join(f"- {f}\n" for f in [*pinned, fact])
            if count(section) > budget:
                break
            pinned.append(fact)
        if pinned:
            parts.append("## Core memory\n" + "".join(f"- {f}\n" for f in pinned))
            used = count(parts[0])
        latest_user = next((m["content"] for m in reversed(messages) if m["role"] == "user"), "")
        retrieved = await retrieve(self.deps, auth, q["query"] or latest_user, int((budget - used) * MEMORY_SHARE))
        if retrieved.text:
            parts.append(retrieved.text + "\n")
            used = count("\n".join(parts))
        kept: list[list[dict[str, Any]]] = []
        for turn in reversed(turns(messages)):  # newest first; a turn goes in whole or not at all
            lines = "".join(f"{m['role']}: {m['content']}\n" for t in [turn, *kept] for m in t)
            if count("\n".join([*parts, "## Recent messages\n" + lines])) > budget:
                break
            kept.insert(0, turn)
        if kept:
            parts.append("## Recent messages\n" + "".join(f"{m['role']}: {m['content']}\n" for t in kept for m in t))
        text = "\n".join(parts)
        entry = {
            "origin": "session",
            "conversation_id": session_id,
            "query": retrieved.query,
            "memories": retrieved.memories,
            "tokens_injected": retrieved.tokens,
            "timings": retrieved.timings,
        }
        await self.deps.logs.record(auth.user_id, entry)
        return {
            "session_id": session_id,
            "context": text,
            "tokens": count(text) if text else 0,
            "max_tokens": budget,
            "core_memory": pinned,
            "memories": retrieved.memories,
            "messages": [m for t in kept for m in t],
            "messages_left_out": len(messages) - sum(len(t) for t in kept),
            "tokenizer": "model" if self.deps.vectors.embedder is not None else "estimate",
        }
