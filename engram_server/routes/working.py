"""Working memory: sessions (messages, core memory, context), the scratchpad and the review inbox."""

from __future__ import annotations

from typing import Any

from engram_core.proxy import inbox, scratch, sessions

from ..routing import ApiRequest, api


def _sid(r: ApiRequest) -> str:
    return str(r.request.path_params["id"])


async def create_session(r: ApiRequest) -> Any:
    """Start a working-memory session for one conversation."""
    return 201, await r.engram.working.sessions.create(r.auth, r.body)


async def list_sessions(r: ApiRequest) -> Any:
    """The caller's sessions, newest first."""
    return await r.engram.working.sessions.list(r.auth, r.query)


async def get_session(r: ApiRequest) -> Any:
    """A session, its core memory and its messages."""
    return await r.engram.working.sessions.get(r.auth, _sid(r))


async def delete_session(r: ApiRequest) -> Any:
    """Delete a session with its messages and scratchpad (memories extracted from it stay)."""
    return await r.engram.working.sessions.delete(r.auth, _sid(r))


async def add_message(r: ApiRequest) -> Any:
    """Add a message (idempotent by message_id: 201 when new, 200 with the stored one on a retry)."""
    created, message = await r.engram.working.sessions.add_message(r.auth, _sid(r), r.body)
    return (201 if created else 200), {**message, "duplicate": not created}


async def set_core_memory(r: ApiRequest) -> Any:
    """Replace the session's core memory (pinned facts, always first in its context)."""
    return await r.engram.working.sessions.set_core(r.auth, _sid(r), r.body)


async def session_context(r: ApiRequest) -> Any:
    """Core memory + relevant long-term memories + recent whole turns, within max_tokens."""
    return await r.engram.working.sessions.context(r.auth, _sid(r), r.query)


async def put_scratch(r: ApiRequest) -> Any:
    """Write scratchpad entries (they expire after ttl minutes)."""
    return await r.engram.working.scratch.put(r.auth, r.body)


async def get_scratch(r: ApiRequest) -> Any:
    """Live scratchpad entries, by session, agent or model."""
    return await r.engram.working.scratch.get(r.auth, r.query)


async def delete_scratch(r: ApiRequest) -> Any:
    """Delete a session's scratchpad."""
    return await r.engram.working.scratch.delete(r.auth, str(r.request.path_params["session"]))


async def delete_scratch_key(r: ApiRequest) -> Any:
    """Delete one scratchpad entry."""
    p = r.request.path_params
    return await r.engram.working.scratch.delete(r.auth, str(p["session"]), str(p["key"]))


async def promote_scratch(r: ApiRequest) -> Any:
    """Turn a session's scratchpad entries into memories."""
    return 201, await r.engram.working.scratch.promote(r.auth, str(r.request.path_params["session"]), r.body)


async def list_inbox(r: ApiRequest) -> Any:
    """Memories waiting for review (status pending), oldest first."""
    return await r.engram.working.inbox.pending(r.auth, r.query)


async def approve(r: ApiRequest) -> Any:
    """Approve a pending memory: from now on it is searched and recalled."""
    return await r.engram.working.inbox.approve(r.auth, r.path_int())


async def reject(r: ApiRequest) -> Any:
    """Reject a pending memory: it is never recalled."""
    return await r.engram.working.inbox.reject(r.auth, r.path_int(), r.body)


async def edit(r: ApiRequest) -> Any:
    """Edit a pending memory and approve it."""
    return await r.engram.working.inbox.edit(r.auth, r.path_int(), r.body)


async def bulk(r: ApiRequest) -> Any:
    """Approve or reject many pending memories at once."""
    return await r.engram.working.inbox.bulk(r.auth, r.body)


W, S = ("POST",), "write"
routes = [
    api("/sessions", create_session, methods=W, scope=S, body=sessions.CREATE, tag="sessions", ok=(201,)),
    api("/sessions", list_sessions, query=sessions.LIST, tag="sessions"),
    api("/sessions/{id}", get_session, tag="sessions"),
    api("/sessions/{id}", delete_session, methods=("DELETE",), scope=S, tag="sessions"),
    api("/sessions/{id}/messages", add_message, methods=W, scope=S, body=sessions.MESSAGE, tag="sessions",
        ok=(201, 200)),
    api("/sessions/{id}/core-memory", set_core_memory, methods=("PUT",), scope=S, body=sessions.CORE,
        tag="sessions"),
    api("/sessions/{id}/context", session_context, query=sessions.SESSION_CONTEXT, tag="sessions", cost=5),
    api("/scratch", put_scratch, methods=("PUT",), scope=S, body=scratch.PUT, tag="scratch"),
    api("/scratch", get_scratch, query=scratch.QUERY, tag="scratch"),
    api("/scratch/{session}", delete_scratch, methods=("DELETE",), scope=S, tag="scratch"),
    api("/scratch/{session}/{key}", delete_scratch_key, methods=("DELETE",), scope=S, tag="scratch"),
    api("/scratch/{session}/promote", promote_scratch, methods=W, scope=S, body=scratch.PROMOTE, tag="scratch",
        ok=(201,)),
    api("/inbox", list_inbox, query=inbox.LIST, tag="inbox"),
    api("/inbox/{id:int}/approve", approve, methods=W, scope=S, tag="inbox"),
    api("/inbox/{id:int}/reject", reject, methods=W, scope=S, body=inbox.REJECT, tag="inbox"),
    api("/inbox/{id:int}/edit", edit, methods=W, scope=S, body=inbox.EDIT, tag="inbox"),
    api("/inbox/bulk", bulk, methods=W, scope=S, body=inbox.BULK, tag="inbox"),
]  # fmt: skip
