"""Chat providers of the proxy: which endpoint, which key, and the OpenAI <-> Anthropic translation.

The proxy always speaks OpenAI's chat-completions format to its client. An ``openai`` provider (OpenAI,
Ollama, vLLM, llama.cpp server, any OpenAI-compatible base URL) gets the request as is and its answer is
returned byte for byte. An ``anthropic`` provider gets the request translated to the messages API
(system messages lifted into ``system``, ``max_tokens`` required, ``stop`` -> ``stop_sequences``) and its
answer, or its event stream, translated back to chat-completion objects and chunks.

The provider key is held only in :class:`Provider` (its ``repr`` hides it) and sent as a header; it is
never logged or stored.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from ..errors import Invalid
from ..settings import Settings

__all__ = ["PROVIDERS", "AnthropicStream", "Provider", "SseParser", "from_anthropic", "resolve", "to_anthropic"]

PROVIDERS = ("openai", "anthropic")
ANTHROPIC_VERSION = "2023-06-01"
DEFAULT_ANTHROPIC_MAX_TOKENS = 1024
_STOP_REASONS = {"end_turn": "stop", "stop_sequence": "stop", "max_tokens": "length", "tool_use": "tool_calls"}


@dataclass(frozen=True)
class Provider:
    kind: str
    url: str
    key: str = field(repr=False)

    def headers(self) -> dict[str, str]:
        headers = {"Content-Type": "application/json"}
        if self.kind == "anthropic":
            headers["anthropic-version"] = ANTHROPIC_VERSION
            if self.key:
                headers["x-api-key"] = self.key
        elif self.key:
            headers["Authorization"] = f"Bearer {self.key}"
        return headers


def _endpoint(base: str, suffix: str) -> str:
    base = base.strip().rstrip("/")
    return base if base.endswith(suffix) else base + suffix


def resolve(settings: Settings, name: str | None, key: str | None) -> Provider:
    """The provider a request asked for (``name``, ``key`` from its headers) or the configured one."""
    kind = (name or settings.proxy_provider or "openai").strip().lower()
    if kind not in PROVIDERS:
        raise Invalid("X-Engram-Provider", f"must be one of {', '.join(PROVIDERS)}")
    if kind == "anthropic":
        base = settings.proxy_anthropic_url
        return Provider(kind, _endpoint(base, "/v1/messages") if base else "", key or settings.proxy_anthropic_api_key)
    base = settings.proxy_openai_url or settings.llm_url
    if not base.strip():
        raise Invalid(
            "X-Engram-Provider",
            "no OpenAI-compatible provider is configured (set ENGRAM_PROXY_OPENAI_URL or ENGRAM_LLM_URL)",
        )
    fallback = settings.proxy_openai_api_key or (settings.llm_api_key if not settings.proxy_openai_url else "")
    return Provider(kind, _endpoint(base, "/chat/completions"), key or fallback)


def _text(content: Any) -> str:
    """The text of an OpenAI message content (a string, or a list of parts)."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "\n".join(p.get("text", "") for p in content if isinstance(p, dict) and p.get("type") == "text")
    return ""


def to_anthropic(body: dict[str, Any]) -> dict[str, Any]:
    """An OpenAI chat-completions request as an Anthropic messages request."""
    system = [_text(m.get("content")) for m in body["messages"] if m.get("role") in {"system", "developer"}]
    messages: list[dict[str, Any]] = []
    for m in body["messages"]:
        role = m.get("role")
        if role not in {"user", "assistant"}:
            continue
        text = _text(m.get("content"))
        if messages and messages[-1]["role"] == role:  # Anthropic wants alternating turns
            messages[-1]["content"] += "\n\n" + text
        else:
            messages.append({"role": role, "content": text})
    out: dict[str, Any] = {
        "model": body["model"],
        "messages": messages,
        "max_tokens": body.get("max_tokens") or body.get("max_completion_tokens") or DEFAULT_ANTHROPIC_MAX_TOKENS,
    }
    if system:
        out["system"] = "\n\n".join(s for s in system if s)
    for name in ("temperature", "top_p", "stream"):
        if body.get(name) is not None:
            out[name] = body[name]
    stop = body.get("stop")
    if stop:
        out["stop_sequences"] = [stop] if isinstance(stop, str) else list(stop)
    return out


def from_anthropic(body: dict[str, Any], model: str) -> dict[str, Any]:
    """An Anthropic messages answer as an OpenAI chat.completion object."""
    text = "".join(p.get("text", "") for p in body.get("content") or [] if isinstance(p, dict))
    usage = body.get("usage") or {}
    prompt, completion = int(usage.get("input_tokens") or 0), int(usage.get("output_tokens") or 0)
    return {
        "id": body.get("id") or f"chatcmpl-{int(time.time() * 1000)}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": body.get("model") or model,
        "choices": [{"index": 0, "message": {"role": "assistant", "content": text},
                     "finish_reason": _STOP_REASONS.get(str(body.get("stop_reason")), "stop")}],
        "usage": {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion},
    }  # fmt: skip


class SseParser:
    """Split a byte stream into SSE events: ``feed`` returns the ``(event, data)`` of each completed one."""

    def __init__(self) -> None:
        self._buffer = b""

    def feed(self, chunk: bytes) -> list[tuple[str, str]]:
        self._buffer += chunk.replace(b"\r\n", b"\n")
        events = []
        while b"\n\n" in self._buffer:
            raw, self._buffer = self._buffer.split(b"\n\n", 1)
            name, data = "message", []
            for line in raw.decode("utf-8", "replace").split("\n"):
                if line.startswith("event:"):
                    name = line[6:].strip()
                elif line.startswith("data:"):
                    data.append(line[5:].lstrip(" "))
            if data:
                events.append((name, "\n".join(data)))
        return events


def openai_delta_text(data: str) -> str:
    """The assistant text in one OpenAI stream chunk (``""`` for ``[DONE]`` and anything else)."""
    try:
        chunk = json.loads(data)
        return str(chunk["choices"][0]["delta"].get("content") or "")
    except (ValueError, KeyError, IndexError, TypeError, AttributeError):
        return ""


class AnthropicStream:
    """Translate Anthropic stream events into OpenAI ``chat.completion.chunk`` SSE events, as they come."""

    def __init__(self, model: str) -> None:
        self.parser = SseParser()
        self.model = model
        self.id = f"chatcmpl-{int(time.time() * 1000)}"
        self.created = int(time.time())
        self.text = ""

    def _chunk(self, delta: dict[str, Any], finish: str | None = None) -> bytes:
        chunk = {"id": self.id, "object": "chat.completion.chunk", "created": self.created, "model": self.model,
                 "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}  # fmt: skip
        return b"data: " + json.dumps(chunk, separators=(",", ":")).encode() + b"\n\n"

    def feed(self, raw: bytes) -> Iterator[bytes]:
        for name, data in self.parser.feed(raw):
            try:
                event = json.loads(data)
            except ValueError:
                continue
            kind = event.get("type", name) if isinstance(event, dict) else name
            if kind == "message_start":
                message = event.get("message") or {}
                self.id = message.get("id") or self.id
                self.model = message.get("model") or self.model
                yield self._chunk({"role": "assistant", "content": ""})
            elif kind == "content_block_delta":
                text = (event.get("delta") or {}).get("text") or ""
                if text:
                    self.text += text
                    yield self._chunk({"content": text})
            elif kind == "message_delta":
                reason = (event.get("delta") or {}).get("stop_reason")
                yield self._chunk({}, _STOP_REASONS.get(str(reason), "stop"))
            elif kind == "message_stop":
                yield b"data: [DONE]\n\n"
            elif kind == "error":
                error = {"error": event.get("error") or {"message": "provider stream error"}}
                yield b"data: " + json.dumps(error).encode() + b"\n\n"
