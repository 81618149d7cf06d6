"""The request-metrics middleware: count and time every HTTP request by route template and status."""

from __future__ import annotations

import time
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["RequestMetrics"]


class RequestMetrics:
    """Pure ASGI middleware. The route label is the template ``api(...)`` declared (set on the scope by
    the endpoint), ``other`` for non-API routes (/mcp) and ``unmatched`` for 404s: bounded cardinality."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def sending(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            _observe(scope, status, time.perf_counter() - started)


def _observe(scope: Scope, status: int, seconds: float) -> None:
    engram: Any = getattr(scope["app"].state, "engram", None)
    if engram is None:
        return
    route = scope.get("engram.route") or ("unmatched" if status == 404 else "other")
    engram.metrics.observe_request(scope["method"], route, status, seconds)
