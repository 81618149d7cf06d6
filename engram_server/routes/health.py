"""Health, stats and API description routes."""

from __future__ import annotations

import html
from typing import Any

from starlette.responses import HTMLResponse

from ..openapi import build_openapi, specs
from ..routing import ApiRequest, api


async def health(r: ApiRequest) -> Any:
    """Status, version, counts and model state."""
    return await r.engram.health()


async def live(r: ApiRequest) -> Any:
    """Liveness: the process answers."""
    return {"live": True}


async def ready(r: ApiRequest) -> Any:
    """Readiness: the database answers."""
    return await r.engram.ready()


async def stats(r: ApiRequest) -> Any:
    """Whole-server counts (admin)."""
    return await r.engram.stats(r.auth)


async def openapi(r: ApiRequest) -> Any:
    """The OpenAPI description of every route served."""
    return build_openapi(r.request.app.routes)


async def docs(r: ApiRequest) -> Any:
    """A plain HTML index of the routes."""
    rows = "".join(
        f"<tr><td>{'/'.join(s.methods)}</td><td><code>{html.escape(s.path)}</code></td><td>{s.scope}</td>"
        f"<td>{html.escape(s.summary)}</td></tr>"
        for s in specs(r.request.app.routes)
    )
    page = (
        "<!doctype html><meta charset=utf-8><title>Engram API</title><h1>Engram API</h1>"
        "<p>Machine-readable: <a href=/openapi.json>/openapi.json</a></p>"
        f"<table border=1 cellpadding=4><tr><th>method</th><th>path</th><th>scope</th><th>what</th></tr>{rows}</table>"
    )
    return HTMLResponse(page)


routes = [
    api("/health", health, scope="open", tag="health"),
    api("/health/live", live, scope="open", tag="health"),
    api("/live", live, scope="open", tag="health"),
    api("/health/ready", ready, scope="open", tag="health"),
    api("/ready", ready, scope="open", tag="health"),
    api("/stats", stats, scope="admin", tag="health"),
    api("/openapi.json", openapi, scope="open", tag="health"),
    api("/docs", docs, scope="open", tag="health", produces="text/html"),
]
