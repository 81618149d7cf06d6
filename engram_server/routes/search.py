"""Search routes: hybrid search, explain, faceted, tag search, time travel."""

from __future__ import annotations

from typing import Any

from engram_core.search.schemas import EXPLAIN, FACETED, SEARCH, TAG_SEARCH, TIMETRAVEL

from ..routing import ApiRequest, api


async def search(r: ApiRequest) -> Any:
    """Hybrid search of the caller's memories."""
    return await r.engram.search.search(r.auth, r.body)


async def explain(r: ApiRequest) -> Any:
    """Search with every channel's rank and score, every multiplier and the timings."""
    return await r.engram.search.explain(r.auth, r.body)


async def faceted(r: ApiRequest) -> Any:
    """Search or list with filters, plus facet counts."""
    return await r.engram.search.faceted(r.auth, r.body)


async def tag_search(r: ApiRequest) -> Any:
    """Memories carrying any (or all) of the tags."""
    return await r.engram.search.tags(r.auth, r.body)


async def timetravel(r: ApiRequest) -> Any:
    """Search the memories as they stood at a given time."""
    return await r.engram.search.timetravel(r.auth, r.body)


routes = [
    *(api(p, search, methods=("POST",), body=SEARCH, tag="search", cost=2) for p in ("/search", "/memories/search")),
    api("/search/explain", explain, methods=("POST",), body=EXPLAIN, tag="search", cost=2),
    api("/search/faceted", faceted, methods=("POST",), body=FACETED, tag="search", cost=2),
    api("/tags/search", tag_search, methods=("POST",), body=TAG_SEARCH, tag="search", cost=2),
    api("/timetravel", timetravel, methods=("POST",), body=TIMETRAVEL, tag="search", cost=2),
]
