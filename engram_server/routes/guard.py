"""Guardrail route: check an action against the caller's stored rules."""

from __future__ import annotations

from typing import Any

from engram_core.intelligence.guard import GUARD

from ..routing import ApiRequest, api


async def guard(r: ApiRequest) -> Any:
    """Check an action against stored rules: allow, warn or block."""
    return await r.engram.intel.guard.check(r.auth, r.body)


routes = [
    api("/guard", guard, methods=("POST",), scope="read", body=GUARD, tag="intelligence"),
]
