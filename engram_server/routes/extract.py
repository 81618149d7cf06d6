"""Conversation extraction route: a chat in, durable memories out."""

from __future__ import annotations

from typing import Any

from engram_core.intelligence.extract import ADD

from ..routing import ApiRequest, api


async def add(r: ApiRequest) -> Any:
    """Extract durable memories (facts, preferences, decisions, corrections) from a conversation."""
    result = await r.engram.intel.extract.add(r.auth, r.body)
    return (201 if result["added"] else 200), result


routes = [
    api("/add", add, methods=("POST",), scope="write", body=ADD, tag="intelligence", ok=(201, 200)),
]
