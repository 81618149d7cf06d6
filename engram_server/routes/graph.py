"""Graph routes: the graph, FTS-seeded graph search, neighborhoods, timeline, communities, PageRank."""

from __future__ import annotations

from typing import Any

from engram_core.graph.service import COMMUNITIES, DETECT, GRAPH, NEIGHBORHOOD, SEARCH, TIMELINE

from ..routing import ApiRequest, api


async def graph(r: ApiRequest) -> Any:
    """Nodes and edges of the caller's memory graph."""
    return await r.engram.cognitive.graph.view(r.auth, r.query)


async def search(r: ApiRequest) -> Any:
    """Full-text seeds and their link neighborhood."""
    return await r.engram.cognitive.graph.search(r.auth, r.body)


async def neighborhood(r: ApiRequest) -> Any:
    """Memories within depth links of a memory."""
    return await r.engram.cognitive.graph.neighborhood(r.auth, r.path_int(), r.query)


async def timeline(r: ApiRequest) -> Any:
    """Weekly growth of memories and links."""
    return await r.engram.cognitive.graph.timeline(r.auth, r.query)


async def communities(r: ApiRequest) -> Any:
    """The caller's Louvain communities, largest first."""
    return await r.engram.cognitive.graph.communities(r.auth, r.query)


async def community(r: ApiRequest) -> Any:
    """Members of one community."""
    return await r.engram.cognitive.graph.community(r.auth, r.path_int(), r.query)


async def pagerank(r: ApiRequest) -> Any:
    """Recompute the caller's PageRank now."""
    return await r.engram.cognitive.graph.pagerank(r.auth)


async def detect_communities(r: ApiRequest) -> Any:
    """Admin: run Louvain community detection now."""
    return await r.engram.cognitive.graph.detect_communities(r.auth, r.body)


routes = [
    api("/graph", graph, query=GRAPH, tag="graph"),
    api("/graph/search", search, methods=("POST",), body=SEARCH, tag="graph", cost=2),
    api("/graph/neighborhood/{id:int}", neighborhood, query=NEIGHBORHOOD, tag="graph"),
    api("/graph/timeline", timeline, query=TIMELINE, tag="graph"),
    api("/graph/pagerank", pagerank, methods=("POST",), scope="write", tag="graph"),
    api("/communities", communities, query=COMMUNITIES, tag="graph"),
    api("/communities/{id:int}", community, query=COMMUNITIES, tag="graph"),
    api(
        "/admin/detect-communities",
        detect_communities,
        methods=("POST",),
        scope="admin",
        body=DETECT,
        tag="admin",
        cost=50,
    ),
]
