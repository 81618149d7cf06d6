"""broca routes: the action log, its narrated feed, questions over it, stats."""

from __future__ import annotations

from typing import Any

from engram_core.services.broca.service import ACTION, ACTIONS, ASK, FEED

from ..routing import ApiRequest, api


async def log(r: ApiRequest) -> Any:
    """Log an action (who, what, target, outcome)."""
    return 201, await r.engram.services.broca.log(r.auth, r.body)


async def list_(r: ApiRequest) -> Any:
    """The caller's logged actions, newest first."""
    return await r.engram.services.broca.list(r.auth, r.query)


async def get(r: ApiRequest) -> Any:
    """One logged action."""
    return await r.engram.services.broca.get(r.auth, r.path_int())


async def feed(r: ApiRequest) -> Any:
    """The action log as readable sentences."""
    return await r.engram.services.broca.feed(r.auth, r.query)


async def ask(r: ApiRequest) -> Any:
    """Answer a question over the action log (by searching it)."""
    return await r.engram.services.broca.ask(r.auth, r.body)


async def stats(r: ApiRequest) -> Any:
    """Action counts by agent, service and action."""
    return await r.engram.services.broca.stats(r.auth)


T = "broca"
routes = [
    api("/broca/actions", log, methods=("POST",), scope="write", body=ACTION, tag=T, ok=(201,)),
    api("/broca/actions", list_, query=ACTIONS, tag=T),
    api("/broca/actions/{id:int}", get, tag=T),
    api("/broca/feed", feed, query=FEED, tag=T),
    api("/broca/ask", ask, methods=("POST",), scope="read", body=ASK, tag=T, ok=(200,), cost=2),
    api("/broca/stats", stats, tag=T),
]
