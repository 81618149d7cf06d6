"""``LlmClient``: the optional LLM, any OpenAI-compatible ``/chat/completions`` endpoint.

Configured by ``ENGRAM_LLM_URL`` (the API base, e.g. ``http://127.0.0.1:11434/v1``; a URL that already
ends in ``/chat/completions`` is used as is), ``ENGRAM_LLM_MODEL`` and ``ENGRAM_LLM_API_KEY``.

Every call goes through a token budget per minute and a circuit breaker, times out after
``ENGRAM_LLM_TIMEOUT_SECONDS`` and retries timeouts, connection errors, 429 and 5xx answers with
exponential backoff. Whatever goes wrong (not configured, budget, open circuit, HTTP error, a body that
is not the expected JSON) raises ``LlmUnavailable``; callers catch it and use their rules instead.
"""

from __future__ import annotations

import json
import logging
import re
import time
from typing import Any

import httpx

from ..errors import LlmUnavailable
from ..loopback import direct_mounts
from ..retrying import Transient, apost, async_retrying
from ..settings import Settings
from ..tls import tls_context
from .limits import CircuitBreaker, TokenBudget

__all__ = ["LlmClient", "parse_json_reply"]

log = logging.getLogger("engram.llm")

REACHABLE_TTL = 30.0  # seconds a reachability probe is reused by /health
_FENCE = re.compile(r"^```(?:json)?\s*|\s*```$", re.IGNORECASE)


def _endpoints(url: str) -> tuple[str, str]:
    """``(chat completions URL, models URL)`` for an API base or a full completions URL."""
    url = url.strip().rstrip("/")
    if url.endswith("/chat/completions"):
        base = url[: -len("/chat/completions")]
        return url, base + "/models"
    return url + "/chat/completions", url + "/models"


def estimate_tokens(text: str) -> int:
    """About four characters a token (what the budget reserves before the endpoint reports usage)."""
    return max(1, (len(text) + 3) // 4)


def parse_json_reply(text: str) -> Any:
    """The JSON value in a model's reply (a ```json fence around it is allowed); ``LlmUnavailable`` if none."""
    body = _FENCE.sub("", text.strip())
    try:
        return json.loads(body)
    except ValueError:
        start, end = body.find("{"), body.rfind("}")
        if 0 <= start < end:
            try:
                return json.loads(body[start : end + 1])
            except ValueError:
                pass
    raise LlmUnavailable("the LLM reply is not valid JSON")


class LlmClient:
    """The configured LLM, or an unconfigured one whose every call raises ``LlmUnavailable``."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.url = settings.llm_url.strip()
        self.model = settings.llm_model.strip()
        self.configured = bool(self.url and self.model)
        self.chat_url, self.models_url = _endpoints(self.url) if self.url else ("", "")
        self._mounts = direct_mounts(self.url)  # a local model server is asked directly, whatever the proxy env
        self.timeout = max(0.1, settings.llm_timeout_seconds)
        self.retries = max(0, settings.llm_max_retries)
        self.breaker = CircuitBreaker(threshold=3, cooldown=30.0)
        self.budget = TokenBudget(settings.llm_tokens_per_minute)
        self.backoff = 0.25  # seconds before the first retry; doubles each time (tests lower it)
        self.calls = 0
        self.failures = 0
        self.last_error: str | None = None
        self._probe: tuple[float, bool, str | None] | None = None

    def _headers(self) -> dict[str, str]:
        headers = {"Content-Type": "application/json"}
        if self.settings.llm_api_key:
            headers["Authorization"] = f"Bearer {self.settings.llm_api_key}"
        return headers

    def _fail(self, message: str) -> LlmUnavailable:
        self.failures += 1
        self.last_error = message
        self.breaker.failure()
        log.warning("LLM call failed (falling back to rules): %s", message)
        return LlmUnavailable(message)

    async def chat(self, messages: list[dict[str, str]], *, max_tokens: int = 512, json_mode: bool = False) -> str:
        """The assistant reply to ``messages`` (``LlmUnavailable`` on any failure; see the module docstring)."""
        if not self.configured:
            raise LlmUnavailable("no LLM is configured (ENGRAM_LLM_URL, ENGRAM_LLM_MODEL)")
        reserved = sum(estimate_tokens(m.get("content", "")) for m in messages) + max_tokens
        if not self.budget.reserve(reserved):
            raise LlmUnavailable(f"the LLM token budget ({self.budget.per_minute} a minute) is used up")
        if not self.breaker.allow():
            raise LlmUnavailable("the LLM circuit is open after repeated failures")
        self.calls += 1
        payload: dict[str, Any] = {"model": self.model, "messages": messages, "max_tokens": max_tokens,
                                   "temperature": 0}  # fmt: skip
        if json_mode:
            payload["response_format"] = {"type": "json_object"}
        try:
            async with httpx.AsyncClient(timeout=self.timeout, verify=tls_context(), mounts=self._mounts) as client:
                async for attempt in async_retrying(self.retries, self.backoff):
                    with attempt:
                        response = await apost(
                            lambda: client.post(self.chat_url, json=payload, headers=self._headers()), self.timeout
                        )
        except Transient as exc:
            raise self._fail(str(exc)) from None
        if response.status_code >= 400:
            raise self._fail(f"HTTP {response.status_code}: {response.text[:200]}")
        content, used = self._content(response)
        self.budget.adjust(reserved, used if used is not None else reserved)
        self.breaker.success()
        self.last_error = None
        return content

    def _content(self, response: httpx.Response) -> tuple[str, int | None]:
        """The first choice's message text and the reported total tokens; ``LlmUnavailable`` if malformed."""
        try:
            body = response.json()
            content = body["choices"][0]["message"]["content"]
        except (ValueError, KeyError, IndexError, TypeError):
            raise self._fail("malformed response: not an OpenAI chat completion") from None
        if not isinstance(content, str):
            raise self._fail("malformed response: message content is not text")
        usage = body.get("usage") if isinstance(body, dict) else None
        used = usage.get("total_tokens") if isinstance(usage, dict) else None
        return content, used if isinstance(used, int) and used >= 0 else None

    async def chat_json(self, system: str, user: str, *, max_tokens: int = 800) -> Any:
        """Ask for a JSON answer; returns the parsed value (``LlmUnavailable`` if the reply is not JSON)."""
        reply = await self.chat(
            [{"role": "system", "content": system}, {"role": "user", "content": user}],
            max_tokens=max_tokens,
            json_mode=True,
        )
        try:
            return parse_json_reply(reply)
        except LlmUnavailable as exc:
            raise self._fail(exc.message) from None

    async def reachable(self) -> tuple[bool, str | None]:
        """Whether the endpoint answers HTTP at all (probed with GET /models, cached for 30 s)."""
        if not self.configured:
            return False, "not configured"
        now = time.monotonic()
        if self._probe is not None and now - self._probe[0] < REACHABLE_TTL:
            return self._probe[1], self._probe[2]
        try:
            async with httpx.AsyncClient(
                timeout=min(self.timeout, 3.0), verify=tls_context(), mounts=self._mounts
            ) as client:
                response = await client.get(self.models_url, headers=self._headers())
            ok, why = response.status_code < 500, None if response.status_code < 500 else f"HTTP {response.status_code}"
        except httpx.HTTPError as exc:
            ok, why = False, f"{exc.__class__.__name__}: {exc}"
        self._probe = (now, ok, why)
        return ok, why

    async def status(self) -> dict[str, Any]:
        """What /health reports: configured, reachable, model, circuit state, tokens used this minute."""
        reachable, why = await self.reachable()
        return {
            "configured": self.configured,
            "reachable": reachable,
            "model": self.model or None,
            "reason": why,
            "circuit": self.breaker.state,
            "tokens_last_minute": self.budget.used(),
            "tokens_per_minute": self.budget.per_minute,
            "calls": self.calls,
            "failures": self.failures,
            "last_error": self.last_error,
        }
