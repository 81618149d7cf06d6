"""Recall and context routes."""

from __future__ import annotations

from typing import Any

from engram_core.search.schemas import CONTEXT, RECALL

from ..routing import ApiRequest, api


async def recall(r: ApiRequest) -> Any:
    """Layered recall: static, important, semantic and recent memories."""
    return await r.engram.recall.recall(r.auth, r.body)


async def context(r: ApiRequest) -> Any:
    """Token-budgeted context for a prompt."""
    return await r.engram.recall.context(r.auth, r.body)


routes = [
    api("/recall", recall, methods=("POST",), body=RECALL, tag="search", cost=2),
    api("/context", context, methods=("POST",), body=CONTEXT, tag="search", cost=5),
]
