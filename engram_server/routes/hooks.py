"""Routes for agent hooks: one call per hook, so a hook process makes one round trip."""

from __future__ import annotations

from typing import Any

from engram_core.toolkit.session_start import SESSION_START

from ..routing import ApiRequest, api


async def session_start(r: ApiRequest) -> Any:
    """Core and project memories, recent decisions and the session's episode, in one call (SessionStart)."""
    return await r.engram.toolkit.session_start.start(r.auth, r.body)


routes = [
    api("/hooks/session-start", session_start, methods=("POST",), body=SESSION_START, tag="hooks", cost=5, ok=(200,)),
]
