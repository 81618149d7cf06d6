"""The chat proxy: ``POST /v1/chat/completions`` with the user's memories in the loop.

1. **Prepare** (Engram's overhead before the first byte goes to the provider): validate, take the latest
   user message as the query, retrieve and inject the memory block (:mod:`.inject`), pick the provider
   and translate for it (:mod:`.providers`).
2. **Forward** with httpx: :meth:`ProxyService.complete` returns the provider's body unchanged (an
   Anthropic answer translated to a chat.completion); :meth:`ProxyService.stream` hands each chunk on as
   it arrives (no buffering; Anthropic events are translated one by one). A provider 4xx is returned as
   the provider sent it; a 5xx, an unreachable provider or a timeout raise ``ProviderFailed`` /
   ``ProviderTimeout``.
3. **After** the answer, off the request path (a task): the retrieval log row, then extraction of
   durable memories from the exchange with ``POST /add``'s core, only when the provider answered 2xx
   and extraction is on.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import AsyncIterator, Awaitable
from dataclasses import dataclass, field
from typing import Any

import httpx

from ..auth.context import AuthContext
from ..errors import Invalid, ProviderFailed, ProviderTimeout
from ..loopback import direct_mounts
from ..tls import tls_context
from ..validation import TEXT_PATTERN, Field, Schema
from .deps import ProxyDeps
from .inject import Retrieved, inject, last_user_text, retrieve
from .providers import AnthropicStream, Provider, SseParser, from_anthropic, openai_delta_text, resolve, to_anthropic

__all__ = ["CHAT", "ChatOptions", "ChatReply", "ChatStream", "ProxyService"]

log = logging.getLogger("engram.proxy")

MAX_CHAT_MESSAGES = 2000


def _check_messages(value: Any) -> list[dict[str, Any]]:
    """OpenAI ``[{role, content}]``; a bare non-empty string is one user message (as POST /add takes)."""
    if isinstance(value, str) and value.strip():
        value = [{"role": "user", "content": value}]
    if not isinstance(value, list) or not value:
        raise Invalid("messages", "must be a non-empty list of {role, content} objects")
    if len(value) > MAX_CHAT_MESSAGES:
        raise Invalid("messages", f"must have at most {MAX_CHAT_MESSAGES} items")
    for i, m in enumerate(value):
        if not isinstance(m, dict):
            raise Invalid(f"messages[{i}]", "must be an object with role and content")
        if not isinstance(m.get("role"), str) or not m["role"].strip():
            raise Invalid(f"messages[{i}].role", "must be a non-empty string")
        content = m.get("content")
        if content is not None and not isinstance(content, str | list):
            raise Invalid(f"messages[{i}].content", "must be a string, a list of content parts or null")
    return value


CHAT = Schema(
    Field("model", "str", required=True, max_len=200, help="The provider's model name (forwarded as is)."),
    Field("messages", "any", required=True, check=_check_messages,
          schema={"oneOf": [{"type": "string", "pattern": TEXT_PATTERN},
                            {"type": "array", "minItems": 1, "items": {"type": "object", "required": ["role"],
                             "properties": {"role": {"type": "string", "pattern": TEXT_PATTERN},
                                            "content": {"type": ["string", "array", "null"]}}}}]},
          help="The chat, OpenAI format (or one string: one user message). The latest user message is the "
               "memory query."),
    Field("stream", "bool", default=False, help="Server-sent events, passed through chunk by chunk."),
    Field("max_tokens", "int", min=1, max=1_000_000, help="Forwarded; Anthropic needs one (default 1024)."),
    description="OpenAI-compatible chat completions with the caller's memories injected (any other OpenAI "
    "field is forwarded unchanged). Headers: X-Engram-Inject, X-Engram-Extract (on|off), X-Engram-Provider "
    "(openai|anthropic), X-Engram-Provider-Key, X-Engram-Conversation-Id, X-Engram-Memory-Tokens.",
)  # fmt: skip


@dataclass(frozen=True)
class ChatOptions:
    """Per-request switches (the route reads them from X-Engram-* headers)."""

    inject: bool = True
    extract: bool = True
    provider: str | None = None
    provider_key: str | None = field(default=None, repr=False)
    conversation_id: str | None = None
    memory_tokens: int | None = None


@dataclass
class _Call:
    auth: AuthContext
    options: ChatOptions
    provider: Provider
    model: str
    payload: dict[str, Any]
    user_text: str
    retrieved: Retrieved
    started: float
    timings: dict[str, float] = field(default_factory=dict)


@dataclass
class ChatReply:
    status: int
    body: bytes
    media_type: str = "application/json"


@dataclass
class ChatStream:
    status: int
    chunks: AsyncIterator[bytes]
    media_type: str = "text/event-stream"


class ProxyService:
    def __init__(self, deps: ProxyDeps) -> None:
        self.deps = deps
        self.settings = deps.settings
        self._client: httpx.AsyncClient | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    @property
    def client(self) -> httpx.AsyncClient:
        if self._client is None:
            t = self.settings.proxy_timeout_seconds
            # providers on this machine (Ollama, vLLM, llama.cpp) are asked directly, whatever the proxy env says
            local = direct_mounts(
                self.settings.proxy_openai_url, self.settings.proxy_anthropic_url, self.settings.llm_url
            )
            self._client = httpx.AsyncClient(
                timeout=httpx.Timeout(t, connect=min(t, 10.0)), verify=tls_context(), mounts=local
            )
        return self._client

    async def close(self) -> None:
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    # -- 1. prepare -----------------------------------------------------------------------------------
    async def _prepare(self, auth: AuthContext, body: Any, options: ChatOptions, started: float) -> _Call:
        auth.require("write")
        q = CHAT.parse(body)
        provider = resolve(self.settings, options.provider, options.provider_key)
        if provider.kind == "anthropic" and not provider.url:
            raise Invalid("X-Engram-Provider", "no Anthropic URL is configured (ENGRAM_PROXY_ANTHROPIC_URL)")
        user_text = last_user_text(q["messages"])
        budget = options.memory_tokens if options.memory_tokens is not None else self.settings.proxy_memory_tokens
        retrieved = Retrieved(user_text)
        if options.inject:
            retrieved = await retrieve(self.deps, auth, user_text, budget)
        payload = {**body, "messages": inject(q["messages"], retrieved.text)}
        if provider.kind == "anthropic":
            payload = to_anthropic(payload)
        call = _Call(auth, options, provider, q["model"], payload, user_text, retrieved, started)
        call.timings = {**retrieved.timings, "overhead_ms": _ms(started)}
        return call

    # -- 2. forward -----------------------------------------------------------------------------------
    async def _send(self, call: _Call, stream: bool) -> httpx.Response:
        headers = {**call.provider.headers(), "Accept-Encoding": "identity"}
        request = self.client.build_request("POST", call.provider.url, json=call.payload, headers=headers)
        try:
            response = await self.client.send(request, stream=stream)
        except httpx.TimeoutException:
            self._finish(call, None, "", f"timed out after {self.settings.proxy_timeout_seconds:g} s")
            raise ProviderTimeout(
                f"the {call.provider.kind} provider did not answer within {self.settings.proxy_timeout_seconds:g} s"
            ) from None
        except httpx.HTTPError as exc:
            self._finish(call, None, "", f"{exc.__class__.__name__}")
            raise ProviderFailed(
                f"the {call.provider.kind} provider is unreachable: {exc.__class__.__name__}"
            ) from None
        call.timings["provider_first_byte_ms"] = _ms(call.started)
        if response.status_code >= 400:
            raw = await response.aread()
            await response.aclose()
            self._finish(call, response.status_code, "", f"HTTP {response.status_code}")
            if response.status_code >= 500:
                raise ProviderFailed(
                    f"the {call.provider.kind} provider answered HTTP {response.status_code}: "
                    + raw[:500].decode("utf-8", "replace"),
                    response.status_code,
                )
        return response

    async def complete(self, auth: AuthContext, body: Any, options: ChatOptions, started: float) -> ChatReply:
        """A non-streaming chat: the provider's answer (4xx included) unchanged, or translated from Anthropic."""
        call = await self._prepare(auth, body, options, started)
        response = await self._send(call, stream=False)
        raw = response.content
        if response.status_code >= 400:
            return ChatReply(response.status_code, raw, response.headers.get("content-type", "application/json"))
        try:
            answer = response.json()
            if call.provider.kind == "anthropic":
                answer = from_anthropic(answer, call.model)
                raw = json.dumps(answer).encode()
            text = str(answer["choices"][0]["message"].get("content") or "")
        except (ValueError, KeyError, IndexError, TypeError, AttributeError):
            self._finish(call, response.status_code, "", "malformed answer")
            raise ProviderFailed(
                f"the {call.provider.kind} provider's answer is not a chat completion", response.status_code
            ) from None
        self._finish(call, response.status_code, text, None)
        return ChatReply(response.status_code, raw, response.headers.get("content-type", "application/json"))

    async def stream(
        self, auth: AuthContext, body: Any, options: ChatOptions, started: float
    ) -> ChatStream | ChatReply:
        """A streaming chat: each provider chunk is yielded as it arrives (a 4xx comes back whole)."""
        call = await self._prepare(auth, body, options, started)
        response = await self._send(call, stream=True)
        if response.status_code >= 400:
            return ChatReply(
                response.status_code, response.content, response.headers.get("content-type", "application/json")
            )
        return ChatStream(response.status_code, self._chunks(call, response))

    async def _chunks(self, call: _Call, response: httpx.Response) -> AsyncIterator[bytes]:
        translator = AnthropicStream(call.model) if call.provider.kind == "anthropic" else None
        parser = SseParser() if translator is None else None
        text: list[str] = []
        error: str | None = None
        try:
            async for raw in response.aiter_bytes():
                if translator is not None:
                    for chunk in translator.feed(raw):
                        yield chunk
                    continue
                yield raw
                assert parser is not None
                text.extend(openai_delta_text(data) for _, data in parser.feed(raw))
        except httpx.TimeoutException:
            error = "stream timed out"
            yield b'data: {"error": {"message": "the provider stream timed out"}}\n\n'
        except httpx.HTTPError as exc:
            error = f"stream broke: {exc.__class__.__name__}"
            yield b'data: {"error": {"message": "the provider stream broke off"}}\n\n'
        finally:
            await response.aclose()
            call.timings["stream_ms"] = _ms(call.started)
            reply = translator.text if translator is not None else "".join(text)
            self._finish(call, response.status_code, reply if error is None else "", error)

    # -- 3. after -------------------------------------------------------------------------------------
    def _finish(self, call: _Call, status: int | None, reply: str, error: str | None) -> None:
        """Log the retrieval and (on success) extract, in a task: never on the request path."""
        call.timings.setdefault("total_ms", _ms(call.started))
        self._spawn(self._after(call, status, reply, error))

    def _spawn(self, work: Awaitable[None]) -> None:
        task = asyncio.ensure_future(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _after(self, call: _Call, status: int | None, reply: str, error: str | None) -> None:
        r = call.retrieved
        try:
            await self.deps.logs.record(call.auth.user_id, {
                "origin": "proxy", "conversation_id": call.options.conversation_id, "query": r.query,
                "memories": r.memories, "tokens_injected": r.tokens, "injected": call.options.inject,
                "provider": call.provider.kind, "model": call.model, "status": status, "error": error,
                "timings": call.timings})  # fmt: skip
        except Exception:
            log.exception("could not write the retrieval log")
        ok = status is not None and 200 <= status < 300 and error is None
        if not (ok and call.options.extract and call.user_text and call.auth.has("write")):
            return
        messages = [{"role": "user", "content": call.user_text}]
        if reply.strip():
            messages.append({"role": "assistant", "content": reply})
        try:
            await self.deps.extract.add(call.auth, {
                "messages": messages, "source": "proxy", "session_id": call.options.conversation_id})  # fmt: skip
        except Exception:
            log.exception("extraction after a proxied chat failed")

    async def settle(self) -> None:
        """Wait for the after-response work in flight (tests, shutdown)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)


def _ms(since: float) -> float:
    return round((time.perf_counter() - since) * 1000, 3)
