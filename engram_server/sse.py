"""A Server-Sent Events response over an async iterator of event batches (``None`` items are heartbeats).

Each event is written as ``id``/``event``/``data`` lines. A write the client does not accept within
``send_timeout`` seconds drops the client (back-pressure: nothing is buffered for it); a disconnect
stops the iterator at once, whatever it was waiting for.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections import OrderedDict
from collections.abc import AsyncIterator
from typing import Any
from weakref import WeakKeyDictionary

from starlette.responses import Response
from starlette.types import Receive, Scope, Send

__all__ = ["EventStream", "format_batch", "format_event"]

log = logging.getLogger("engram.sse")


_CACHE = 4096  # the last events encoded, per event bus: N subscribers cost one json.dumps per event
_ENCODED: WeakKeyDictionary[object, OrderedDict[int, bytes]] = WeakKeyDictionary()


def format_event(event: dict[str, Any], cache: OrderedDict[int, bytes] | None = None) -> bytes:
    """One event as SSE lines; with ``cache`` (the bus's: ids are unique within it), encoded once."""
    cached = cache.get(event["id"]) if cache is not None else None
    if cached is not None:
        return cached
    data = json.dumps(event, ensure_ascii=False, separators=(",", ":"))
    encoded = f"id: {event['id']}\nevent: {event['action']}\ndata: {data}\n\n".encode()
    if cache is not None:
        cache[event["id"]] = encoded
        if len(cache) > _CACHE:
            cache.popitem(last=False)
    return encoded


def format_batch(batch: list[dict[str, Any]] | None, cache: OrderedDict[int, bytes] | None = None) -> bytes:
    """A batch of events as one write; ``None`` is a heartbeat comment."""
    if batch is None:
        return b": ping\n\n"
    return b"".join(format_event(e, cache) for e in batch)


class EventStream(Response):
    media_type = "text/event-stream"

    def __init__(
        self,
        items: AsyncIterator[list[dict[str, Any]] | None],
        *,
        send_timeout: float,
        bus: object | None = None,
        retry_ms: int = 2000,
    ):
        super().__init__(status_code=200, media_type=self.media_type)
        self.items = items
        # Events of one bus are encoded once for all its streams; a stream of its own (ingest progress) has no cache.
        self.cache = _ENCODED.setdefault(bus, OrderedDict()) if bus is not None else None
        self.send_timeout = send_timeout
        self.retry_ms = retry_ms

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        headers = [
            (b"content-type", b"text/event-stream; charset=utf-8"),
            (b"cache-control", b"no-store"),
            (b"x-accel-buffering", b"no"),
        ]

        async def write(chunk: bytes) -> None:
            await asyncio.wait_for(send({"type": "http.response.body", "body": chunk, "more_body": True}),
                                   self.send_timeout)  # fmt: skip

        async def pump() -> None:
            await send({"type": "http.response.start", "status": 200, "headers": headers})
            await write(f"retry: {self.retry_ms}\n\n".encode())
            async for item in self.items:
                await write(format_batch(item, self.cache))
            await send({"type": "http.response.body", "body": b"", "more_body": False})

        async def disconnected() -> None:
            while (await receive())["type"] != "http.disconnect":
                pass

        pumping = asyncio.create_task(pump())
        watching = asyncio.create_task(disconnected())
        try:
            await asyncio.wait({pumping, watching}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in (pumping, watching):
                task.cancel()
                with contextlib.suppress(BaseException):
                    await task
            with contextlib.suppress(BaseException):
                await self.items.aclose()  # type: ignore[attr-defined]
        if pumping.done() and not pumping.cancelled() and isinstance(pumping.exception(), TimeoutError):
            log.info("SSE client too slow (no write accepted in %.1f s): dropped", self.send_timeout)
