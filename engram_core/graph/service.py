"""GraphService: the graph routes (view, search, neighborhood, timeline, communities, PageRank now)."""

from __future__ import annotations

from typing import Any

from ..auth.context import AuthContext
from ..errors import NotFound
from ..storage.database import Database
from ..validation import Field, Schema
from . import views
from .layout import layout
from .links import LINK_TYPES
from .positions import LayoutCache, Positions
from .ranking import GraphRanker

__all__ = ["COMMUNITIES", "DETECT", "GRAPH", "GraphService", "NEIGHBORHOOD", "SEARCH", "TIMELINE"]

GRAPH = Schema(
    Field("limit", "int", default=200, min=1, max=5000, help="Most nodes (highest PageRank first)."),
    Field("link_type", "str", choices=LINK_TYPES),
    Field("min_weight", "float", default=0.0, min=0.0),
    Field("community", "int", min=0),
    Field("category", "str", max_len=100),
    Field("tag", "str", max_len=100, help="Only memories with this tag (both ends of each link)."),
    Field("min_pagerank", "float", default=0.0, min=0.0, help="Only memories with at least this PageRank."),
    Field("entities", "bool", default=False, help="Also the entities the listed memories mention."),
    Field(
        "positions",
        "bool",
        default=False,
        help="Also each node's x and y for drawing: communities as separate groups (seeded, the same graph always"
        " gets the same picture; computed once per graph, cached until it changes).",
    ),
)
SEARCH = Schema(
    Field("query", "text", required=True, max_len=2000),
    Field("limit", "int", default=10, min=1, max=100, help="FTS seeds."),
    Field("depth", "int", default=1, min=0, max=3),
    Field("max_nodes", "int", default=200, min=1, max=2000),
    description="FTS seeds plus their link neighborhood.",
)
NEIGHBORHOOD = Schema(
    Field("depth", "int", default=1, min=1, max=3), Field("limit", "int", default=200, min=1, max=2000)
)
TIMELINE = Schema(Field("weeks", "int", default=52, min=1, max=520))
COMMUNITIES = Schema(Field("limit", "int", default=50, min=1, max=1000))
DETECT = Schema(Field("user_id", "int", min=1, help="Only this user (default: every user with links)."))


class GraphService:
    """Graph reads for one authenticated caller at a time, and on-demand ranking."""

    def __init__(self, db: Database, ranker: GraphRanker) -> None:
        self.db = db
        self.ranker = ranker
        self.layouts = LayoutCache()

    async def view(self, auth: AuthContext, query: Any) -> dict[str, Any]:
        """Nodes and edges of the caller's graph."""
        auth.require("read")
        q = GRAPH.parse(query)
        out = await self.db.aread(lambda conn: views.graph_view(conn, auth.user_id, q))
        if q["positions"]:
            placed = await self.positions(auth.user_id, out)
            for n in out["nodes"]:
                n["x"], n["y"] = placed[n["id"]]
        return out

    async def positions(self, user_id: int, graph: dict[str, Any]) -> Positions:
        """The layout of a ``graph_view`` answer: from the cache, else computed on the graph executor."""
        nodes = [(n["id"], n["community"]) for n in graph["nodes"]]
        edges = [(e["source"], e["target"]) for e in graph["edges"]]
        key = self.layouts.key(user_id, nodes, edges)
        placed = self.layouts.get(key)
        if placed is None:
            placed = await self.ranker.compute(lambda: layout(nodes, edges))
            self.layouts.put(key, placed)
        return placed

    async def search(self, auth: AuthContext, body: Any) -> dict[str, Any]:
        """FTS seeds and their neighborhood."""
        auth.require("read")
        q = SEARCH.parse(body)

        def run(conn: Any) -> dict[str, Any]:
            seeds = views.search_seeds(conn, auth.user_id, q["query"], q["limit"])
            return {"seeds": seeds, **views.expand(conn, auth.user_id, seeds, q["depth"], q["max_nodes"])}

        return await self.db.aread(run)

    async def neighborhood(self, auth: AuthContext, memory_id: int, query: Any) -> dict[str, Any]:
        """Memories within ``depth`` links of one memory."""
        auth.require("read")
        q = NEIGHBORHOOD.parse(query)

        def run(conn: Any) -> dict[str, Any]:
            views.require_visible(conn, auth.user_id, memory_id)
            return {"id": memory_id, **views.expand(conn, auth.user_id, [memory_id], q["depth"], q["limit"])}

        return await self.db.aread(run)

    async def timeline(self, auth: AuthContext, query: Any) -> dict[str, Any]:
        """Weekly growth of the caller's memories and links."""
        auth.require("read")
        weeks = TIMELINE.parse(query)["weeks"]
        return await self.db.aread(lambda conn: views.timeline(conn, auth.user_id, weeks))

    async def communities(self, auth: AuthContext, query: Any) -> dict[str, Any]:
        """The caller's communities, largest first."""
        auth.require("read")
        limit = COMMUNITIES.parse(query)["limit"]
        found = await self.db.aread(lambda conn: views.list_communities(conn, auth.user_id, limit))
        return {"communities": found, "count": len(found)}

    async def community(self, auth: AuthContext, community: int, query: Any) -> dict[str, Any]:
        """Members of one community."""
        auth.require("read")
        limit = COMMUNITIES.parse(query)["limit"]
        members = await self.db.aread(lambda conn: views.community_members(conn, auth.user_id, community, limit))
        if not members:
            raise NotFound(f"community {community} not found")
        return {"id": community, "members": members, "count": len(members)}

    async def pagerank(self, auth: AuthContext) -> dict[str, Any]:
        """Recompute the caller's PageRank now."""
        auth.require("write")
        return await self.ranker.refresh_pagerank(auth.user_id)

    async def detect_communities(self, auth: AuthContext, body: Any) -> dict[str, Any]:
        """Admin: run Louvain now (one user or every user with links)."""
        auth.require_admin()
        user_id = DETECT.parse(body)["user_id"]
        if user_id and not await self.db.aread(
            lambda conn: conn.execute("SELECT 1 FROM users WHERE id = ?", (user_id,)).fetchone()
        ):
            raise NotFound(f"user {user_id} not found")  # was a 500 (graph_state foreign key), found by fuzzing
        runs = [await self.ranker.detect_communities(user_id)] if user_id else await self.ranker.all_communities()
        return {"users": runs, "count": len(runs)}
