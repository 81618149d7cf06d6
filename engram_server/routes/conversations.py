"""Conversation routes: CRUD, messages, and full-text search over messages."""

from __future__ import annotations

from typing import Any

from engram_core.organize.conversations import (
    CONVERSATION,
    CONVERSATION_LIST,
    MESSAGE,
    MESSAGE_PAGE,
    MESSAGE_SEARCH,
)

from ..routing import ApiRequest, api


async def create(r: ApiRequest) -> Any:
    """Start a conversation."""
    return 201, await r.engram.cognitive.conversations.create(r.auth, r.body)


async def list_(r: ApiRequest) -> Any:
    """The caller's conversations."""
    return await r.engram.cognitive.conversations.list(r.auth, r.query)


async def get(r: ApiRequest) -> Any:
    """One conversation."""
    return await r.engram.cognitive.conversations.get(r.auth, r.path_int())


async def patch(r: ApiRequest) -> Any:
    """Change a conversation's title, agent, session or metadata."""
    return await r.engram.cognitive.conversations.patch(r.auth, r.path_int(), r.body)


async def delete(r: ApiRequest) -> Any:
    """Delete a conversation and its messages."""
    return await r.engram.cognitive.conversations.delete(r.auth, r.path_int())


async def add_message(r: ApiRequest) -> Any:
    """Append a message to a conversation."""
    return 201, await r.engram.cognitive.conversations.add_message(r.auth, r.path_int(), r.body)


async def messages(r: ApiRequest) -> Any:
    """Messages of a conversation, oldest first."""
    return await r.engram.cognitive.conversations.messages(r.auth, r.path_int(), r.query)


async def search(r: ApiRequest) -> Any:
    """Full-text search over the caller's messages."""
    return await r.engram.cognitive.conversations.search(r.auth, r.body)


_ID = "/conversations/{id:int}"
routes = [
    api("/conversations", create, methods=("POST",), scope="write", body=CONVERSATION, tag="conversations", ok=(201,)),
    api("/conversations", list_, query=CONVERSATION_LIST, tag="conversations"),
    api(_ID, get, tag="conversations"),
    api(_ID, patch, methods=("PATCH",), scope="write", body=CONVERSATION, tag="conversations"),
    api(_ID, delete, methods=("DELETE",), scope="write", tag="conversations"),
    api(_ID + "/messages", add_message, methods=("POST",), scope="write", body=MESSAGE, tag="conversations", ok=(201,)),
    api(_ID + "/messages", messages, query=MESSAGE_PAGE, tag="conversations"),
    api("/messages/search", search, methods=("POST",), body=MESSAGE_SEARCH, tag="conversations", cost=2),
]
