"""Search routes."""

from __future__ import annotations

from typing import Any

from engram_core.search.schemas import SEARCH

from ..routing import ApiRequest, api


async def search(r: ApiRequest) -> Any:
    """Search the caller's memories."""
    return await r.engram.search.search(r.auth, r.body)


routes = [api(p, search, methods=("POST",), body=SEARCH, tag="search") for p in ("/search", "/memories/search")]
