"""The chat proxy (``POST /v1/chat/completions``) and the retrieval logs."""

from __future__ import annotations

import time
from typing import Any

from starlette.datastructures import Headers
from starlette.responses import Response, StreamingResponse

from engram_core.errors import Invalid
from engram_core.proxy.logs import LIST_LOGS
from engram_core.proxy.service import CHAT, ChatOptions, ChatReply

from ..routing import ApiRequest, api

_ON = {"on", "true", "1", "yes"}
_OFF = {"off", "false", "0", "no"}


def _switch(headers: Headers, name: str) -> bool:
    raw = headers.get(name)
    if raw is None:
        return True
    value = raw.strip().lower()
    if value not in _ON | _OFF:
        raise Invalid(name, "must be on or off")
    return value in _ON


def options_from(headers: Headers) -> ChatOptions:
    """The X-Engram-* switches of one chat request."""
    tokens = headers.get("x-engram-memory-tokens")
    if tokens is not None and not (tokens.strip().isdigit() and int(tokens) <= 100_000):
        raise Invalid("X-Engram-Memory-Tokens", "must be an integer from 0 to 100000")
    conversation = headers.get("x-engram-conversation-id")
    if conversation is not None and len(conversation) > 200:
        raise Invalid("X-Engram-Conversation-Id", "must be at most 200 characters")
    return ChatOptions(
        inject=_switch(headers, "X-Engram-Inject"),
        extract=_switch(headers, "X-Engram-Extract"),
        provider=headers.get("x-engram-provider"),
        provider_key=headers.get("x-engram-provider-key"),
        conversation_id=conversation or None,
        memory_tokens=int(tokens) if tokens is not None else None,
    )


async def chat_completions(r: ApiRequest) -> Any:
    """Chat through your memory: relevant memories injected, answer unchanged, new facts extracted after."""
    started = time.perf_counter()
    options = options_from(r.request.headers)
    proxy = r.engram.working.proxy
    streaming = isinstance(r.body, dict) and r.body.get("stream") is True
    if streaming:
        reply = await proxy.stream(r.auth, r.body, options, started)
        if not isinstance(reply, ChatReply):
            headers = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
            return StreamingResponse(reply.chunks, status_code=reply.status, media_type=reply.media_type,
                                     headers=headers)  # fmt: skip
    else:
        reply = await proxy.complete(r.auth, r.body, options, started)
    return Response(reply.body, status_code=reply.status, media_type=reply.media_type)


async def list_logs(r: ApiRequest) -> Any:
    """Retrieval logs, newest first: the query, the memories (id, score, kind, channels), tokens, timings."""
    return await r.engram.working.logs.list(r.auth, r.query)


async def get_log(r: ApiRequest) -> Any:
    """One retrieval log."""
    return await r.engram.working.logs.get(r.auth, r.path_int())


routes = [
    api("/v1/chat/completions", chat_completions, methods=("POST",), scope="write", body=CHAT, tag="proxy",
        cost=5),
    api("/logs", list_logs, query=LIST_LOGS, tag="proxy"),
    api("/logs/{id:int}", get_log, tag="proxy"),
]  # fmt: skip
