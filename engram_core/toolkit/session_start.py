"""What a coding agent's session starts with, in one call (``POST /hooks/session-start``).

The Claude Code SessionStart hook used to make three or four calls, each a new process's new connection:
``/context`` for the core and project memories, ``/list`` for the project's recent decisions (or, when a
session resumes, what it stored itself), then ``GET``/``POST /episodes`` for the session's episode. Here
they are one request: the same context assembly (mode fast), the same lists, and the session's open
episode found or started (its one write, one transaction).
"""

from __future__ import annotations

from typing import Any, Protocol

from ..auth.context import AuthContext
from ..validation import Field, Schema

__all__ = ["SESSION_START", "SessionStart"]

SOURCES = ("startup", "resume", "clear", "compact")

SESSION_START = Schema(
    Field("project", "text", required=True, max_len=200, help="The project's name (e.g. the git root's)."),
    Field("tag", "str", max_len=100, help="The project's tag on its memories (default: none)."),
    Field("session_id", "str", max_len=200, help="The agent's session id."),
    Field("source", "str", default="startup", choices=SOURCES, help="Why the session started (Claude Code's)."),
    Field("max_tokens", "int", default=1500, min=100, max=8000),
    Field(
        "episode",
        "bool",
        default=True,
        help="Find or start the session's episode (startup and clear; needs the write scope).",
    ),
    description="Core and project memories, recent decisions and the session's episode, in one call.",
)


class Recall(Protocol):
    async def context(self, auth: AuthContext, body: Any) -> dict[str, Any]: ...


class Memories(Protocol):
    async def list(self, auth: AuthContext, query: Any) -> dict[str, Any]: ...


class Episodes(Protocol):
    async def list(self, auth: AuthContext, query: Any) -> dict[str, Any]: ...
    async def create(self, auth: AuthContext, body: Any) -> dict[str, Any]: ...


def _brief(rows: Any) -> list[dict[str, Any]]:
    return [{"id": m["id"], "content": m["content"], "category": m["category"], "created_at": m["created_at"]}
            for m in rows or []]  # fmt: skip


class SessionStart:
    def __init__(self, recall: Recall, memories: Memories, episodes: Episodes) -> None:
        self.recall = recall
        self.memories = memories
        self.episodes = episodes

    async def start(self, auth: AuthContext, body: Any) -> dict[str, Any]:
        auth.require("read")
        q = SESSION_START.parse(body)
        fresh = q["source"] in ("startup", "clear")
        # The episode is the one write; a read-only key gets the reads and no episode (episode_id null).
        episode = fresh and q["episode"] and bool(q["session_id"]) and auth.has("write")
        found = await self.recall.context(auth, {"query": f"{q['project']}: project conventions, decisions,"
                                                          " preferences", "max_tokens": q["max_tokens"],
                                                 "mode": "fast"})  # fmt: skip
        out: dict[str, Any] = {"context": str(found.get("context") or ""), "source": q["source"]}
        if fresh:
            listed = await self.memories.list(auth, {"category": "decision", "tags": [q["tag"]] if q["tag"] else None,
                                                     "limit": 5})  # fmt: skip
            out["decisions"] = _brief(listed.get("results"))
        elif q["session_id"]:
            listed = await self.memories.list(auth, {"session_id": q["session_id"], "limit": 8})
            out["session_memories"] = _brief(listed.get("results"))
        out["episode_id"] = None
        if episode:
            open_ = await self.episodes.list(auth, {"session_id": q["session_id"], "status": "open", "limit": 1})
            if open_.get("episodes"):
                out["episode_id"] = int(open_["episodes"][0]["id"])
            else:
                made = await self.episodes.create(auth, {"title": f"Claude Code session in {q['project']}",
                                                         "session_id": q["session_id"]})  # fmt: skip
                out["episode_id"] = int(made["id"])
        return out
