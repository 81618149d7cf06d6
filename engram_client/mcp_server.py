"""Engram's MCP server: the memory tools and resources, each a call to the REST API through ``EngramClient``.

One definition serves both transports:

- ``engram mcp`` (stdio): the tools call the Engram at ENGRAM_URL with ENGRAM_API_KEY;
- ``/mcp`` mounted in the server (streamable HTTP, engram_server/mcp.py): the tools call the app itself
  in-process with the caller's own bearer key, so authentication, scoping and validation are exactly the
  REST routes'.

Built on the MCP Python SDK 2.x (``mcp.server.mcpserver.MCPServer``).
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager
from typing import Annotated, Any, Literal

from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ResourceError, ToolError
from pydantic import Field

from .client import EngramClient
from .errors import ClientError

__all__ = ["INSTRUCTIONS", "TOOLS", "build_server", "shared_client"]

Connect = Callable[[], AbstractAsyncContextManager[EngramClient]]

INSTRUCTIONS = (
    "Engram is the user's long-term memory. Search it (memory_search, memory_context) before answering "
    "questions about the user, their projects, preferences or past decisions; store durable facts, "
    "decisions and preferences (memory_store) as short self-contained statements; update or forget "
    "memories that became wrong instead of storing contradictions; check risky actions with memory_guard."
)

Id = Annotated[int, Field(description="The memory's id (from memory_search, memory_list or memory_store).", ge=1)]
Tags = Annotated[list[str] | None, Field(description="Short lowercase labels, e.g. ['billing', 'deploy'].")]


def build_server(connect: Connect, name: str = "engram") -> MCPServer:
    """The MCP server; ``connect()`` gives the client each tool call speaks through."""
    server: MCPServer = MCPServer(name, instructions=INSTRUCTIONS)

    async def call(method: str, *args: Any, **kwargs: Any) -> Any:
        try:
            async with connect() as client:
                return await getattr(client, method)(*args, **kwargs)
        except ClientError as exc:
            raise ToolError(str(exc)) from None

    @server.tool()
    async def memory_store(
        content: Annotated[str, Field(description="One self-contained fact, decision or preference.")],
        category: Annotated[str | None, Field(description="e.g. fact, decision, preference, rule, task.")] = None,
        importance: Annotated[
            int | None, Field(description="1 (trivia) to 10 (critical); default 5.", ge=1, le=10)
        ] = None,  # fmt: skip
        tags: Tags = None,
        is_static: Annotated[bool | None, Field(description="A core fact, always put first in context.")] = None,
        session_id: Annotated[str | None, Field(description="The conversation this came from.")] = None,
    ) -> dict[str, Any]:
        """Remember something for later: a durable fact about the user or project, a decision and why, a
        preference, or a rule. Write it as a standalone statement ("The billing API listens on 8443"), not as
        an instruction. A near-duplicate of a stored memory is not stored twice (the answer says which)."""
        return dict(await call("store", content, category=category, importance=importance, tags=tags,
                               is_static=is_static, session_id=session_id, source="mcp"))  # fmt: skip

    @server.tool()
    async def memory_search(
        query: Annotated[str, Field(description="What you want to know, in natural language.")],
        limit: Annotated[int, Field(description="How many results (1-100).", ge=1, le=100)] = 10,
        category: str | None = None,
        tags: Annotated[list[str] | None, Field(description="Only memories with every one of these tags.")] = None,
    ) -> dict[str, Any]:
        """Find stored memories relevant to a query (hybrid keyword + semantic search), best first, with ids
        and scores. Use before answering anything that may depend on what the user told you earlier."""
        return dict(await call("search", query, limit=limit, category=category, tags=tags))

    @server.tool()
    async def memory_context(
        query: Annotated[str, Field(description="The task or question the context is for.")],
        max_tokens: Annotated[
            int, Field(description="Token budget of the assembled text.", ge=0, le=200_000)
        ] = 2000,  # fmt: skip
        mode: Literal["fast", "balanced", "deep", "decision"] = "balanced",
    ) -> dict[str, Any]:
        """Assemble a ready-to-read block of memories for a task within a token budget: core facts first, then
        the relevant ones, then recent ones. Best at the start of a task."""
        return dict(await call("context", query, max_tokens=max_tokens, mode=mode))

    @server.tool()
    async def memory_recall(
        query: Annotated[str | None, Field(description="Optional topic for the relevant layer.")] = None,
        limit: Annotated[int, Field(description="Memories per layer (1-50).", ge=1, le=50)] = 5,
    ) -> dict[str, Any]:
        """Layered recall: the user's core (static) memories, the most important ones, the ones relevant to an
        optional topic, and the most recent ones. Use to get oriented at the start of a conversation."""
        return dict(await call("recall", query, limit=limit))

    @server.tool()
    async def memory_get(memory_id: Id) -> dict[str, Any]:
        """Read one memory in full by id (content, tags, importance, version, dates)."""
        return dict(await call("get", memory_id))

    @server.tool()
    async def memory_update(
        memory_id: Id,
        content: Annotated[str | None, Field(description="The corrected text.")] = None,
        category: str | None = None,
        importance: Annotated[int | None, Field(ge=1, le=10)] = None,
        tags: Tags = None,
        is_static: bool | None = None,
    ) -> dict[str, Any]:
        """Correct a memory that changed or was wrong: makes a new version (the old one stays in its history).
        Only the fields given change. Prefer this to storing a contradicting memory."""
        return dict(await call("update", memory_id, content=content, category=category, importance=importance,
                               tags=tags, is_static=is_static))  # fmt: skip

    @server.tool()
    async def memory_forget(
        memory_id: Id, reason: Annotated[str | None, Field(description="Why it no longer applies.")] = None
    ) -> dict[str, Any]:
        """Forget a memory that no longer applies or the user asked you to forget: hidden from search and
        context (restorable by the user)."""
        return dict(await call("forget", memory_id, reason))

    @server.tool()
    async def memory_list(
        limit: Annotated[int, Field(description="How many (1-500).", ge=1, le=500)] = 20,
        offset: Annotated[int, Field(ge=0)] = 0,
        category: str | None = None,
        tags: Annotated[list[str] | None, Field(description="Only memories with every one of these tags.")] = None,
        session_id: str | None = None,
    ) -> dict[str, Any]:
        """List the latest memories, newest first (optionally one category, tags or session). For browsing;
        use memory_search to find something specific."""
        return dict(await call("list", limit=limit, offset=offset, category=category, tags=tags,
                               session_id=session_id))  # fmt: skip

    @server.tool()
    async def memory_guard(
        action: Annotated[str, Field(description="The command or change about to be made, verbatim.")],
    ) -> dict[str, Any]:
        """Check an action against the user's stored rules before taking it (e.g. a shell command, a deploy,
        deleting data). Answers signal allow, warn (go on carefully; read the message) or block (do not do it;
        tell the user the rule)."""
        return dict(await call("guard", action))

    @server.tool()
    async def capture_conversation(
        messages: Annotated[
            list[dict[str, str]], Field(description="[{'role': 'user'|'assistant', 'content': '...'}, ...] in order.")
        ],  # fmt: skip
        session_id: str | None = None,
    ) -> dict[str, Any]:
        """Hand a conversation (or its latest turns) to Engram, which extracts the durable memories in it
        (facts about the user, preferences, decisions, corrections) and skips small talk and duplicates."""
        return dict(await call("add", messages, session_id=session_id))

    @server.tool()
    async def get_retrieval_log(
        log_id: Annotated[int | None, Field(description="One log entry; omit for the latest ones.")] = None,
        limit: Annotated[int, Field(ge=1, le=200)] = 20,
    ) -> dict[str, Any]:
        """Show why memories were retrieved: past retrievals with the query, the memory ids with their scores
        and channels, and the tokens injected. For debugging what memory put in front of a model."""
        if log_id is not None:
            return dict(await call("retrieval_log", log_id))
        return dict(await call("retrieval_log", limit=limit))

    async def read(method: str, *args: Any, **kwargs: Any) -> str:
        try:
            async with connect() as client:
                return json.dumps(await getattr(client, method)(*args, **kwargs), ensure_ascii=False)
        except ClientError as exc:
            raise ResourceError(str(exc)) from None

    @server.resource("engram://profile", name="profile", mime_type="application/json")
    async def profile() -> str:
        """The user's profile as Engram built it from their memories (preferences, traits, habits)."""
        return await read("profile")

    @server.resource("engram://memories/core", name="core-memories", mime_type="application/json")
    async def core_memories() -> str:
        """The user's core (static) memories: facts that always apply."""
        layers = json.loads(await read("recall", None, limit=50))
        return json.dumps({"memories": layers.get("static", [])}, ensure_ascii=False)

    return server


TOOLS = (
    "memory_store", "memory_search", "memory_context", "memory_recall", "memory_get", "memory_update",
    "memory_forget", "memory_list", "memory_guard", "capture_conversation", "get_retrieval_log",
)  # fmt: skip


def shared_client(client: EngramClient) -> Connect:
    """``connect`` for one long-lived client (stdio)."""

    @contextlib.asynccontextmanager
    async def connect() -> AsyncIterator[EngramClient]:
        yield client

    return connect
