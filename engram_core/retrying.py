"""One retry policy for the OpenAI-compatible endpoints Engram calls (the LLM, a remote embedder).

Timeouts, connection errors, 429 and 5xx answers are ``Transient``: retried up to ``retries`` more times,
``backoff`` seconds before the first retry, doubling each time, with up to a quarter of it added at random
so that clients that failed together do not retry together (tenacity does the waiting and counting). Any
other answer, 4xx included, goes back to the caller at once.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import httpx
from tenacity import AsyncRetrying, Retrying, retry_if_exception_type, stop_after_attempt, wait_exponential, wait_random

__all__ = ["Transient", "apost", "async_retrying", "post", "retrying"]


class Transient(Exception):
    """A failure worth another attempt; its message says what happened."""


def _policy(retries: int, backoff: float) -> dict[str, object]:
    return {
        "stop": stop_after_attempt(max(0, retries) + 1),
        "wait": wait_exponential(multiplier=backoff) + wait_random(0, backoff / 4),
        "retry": retry_if_exception_type(Transient),
        "reraise": True,  # after the last attempt the caller gets the Transient itself
    }


def retrying(retries: int, backoff: float) -> Retrying:
    """``for attempt in retrying(...): with attempt: ...`` — a ``Transient`` raised inside is retried."""
    return Retrying(**_policy(retries, backoff))  # type: ignore[arg-type]


def async_retrying(retries: int, backoff: float) -> AsyncRetrying:
    """``async for attempt in async_retrying(...): with attempt: ...``"""
    return AsyncRetrying(**_policy(retries, backoff))  # type: ignore[arg-type]


def _checked(response: httpx.Response) -> httpx.Response:
    if response.status_code == 429 or response.status_code >= 500:
        raise Transient(f"HTTP {response.status_code}")
    return response


def _transient(exc: httpx.HTTPError, timeout: float) -> Transient:
    if isinstance(exc, httpx.TimeoutException):
        return Transient(f"timed out after {timeout:g} s")
    return Transient(f"{exc.__class__.__name__}: {exc}")


def post(send: Callable[[], httpx.Response], timeout: float) -> httpx.Response:
    """``send()``'s response, or ``Transient`` for a timeout, a connection error, a 429 or a 5xx."""
    try:
        return _checked(send())
    except httpx.HTTPError as exc:
        raise _transient(exc, timeout) from None


async def apost(send: Callable[[], Awaitable[httpx.Response]], timeout: float) -> httpx.Response:
    """``post`` for an async client."""
    try:
        return _checked(await send())
    except httpx.HTTPError as exc:
        raise _transient(exc, timeout) from None
