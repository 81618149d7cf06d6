"""Stored graph scores: per-user PageRank and Louvain communities, computed off the event loop.

Edges are the user's links whose two ends are visible memories. A refresh reads them on a read
connection, computes on the graph executor (one thread: networkx and Louvain hold the GIL, so one is
enough and keeps the event loop free), then writes every score in one transaction. Memories without
links get pagerank 0 and no community. Scores are stored in ``memories.pagerank`` / ``.community`` so
search reads them without recomputing.

``GraphRanker.tick`` (a scheduler task) refreshes PageRank for users with at least
``link_threshold`` changed links, or with any change and a rank older than ``interval`` seconds.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from ..auth import audit
from ..model.memories import visible
from ..storage.database import Database
from ..timeutil import format_ts, now_iso
from .rank import EdgeRow, build_graph, communities, pagerank

__all__ = ["GraphRanker", "user_edges", "visible"]

T = TypeVar("T")


def user_edges(conn: Any, user_id: int) -> list[EdgeRow]:
    """The user's links between visible memories, as ``(source, target, type, weight)`` rows."""
    sql = (
        "SELECT l.source_id, l.target_id, l.link_type, l.weight FROM memory_links l"
        " JOIN memories s ON s.id = l.source_id JOIN memories t ON t.id = l.target_id"
        f" WHERE l.user_id = :user AND s.user_id = :user AND t.user_id = :user AND {visible('s')} AND"
        f" {visible('t')}"
        " ORDER BY l.id"
    )
    return [(r[0], r[1], r[2], r[3]) for r in conn.execute(sql, {"user": user_id, "now": now_iso()})]


def _snapshot(conn: Any, user_id: int) -> tuple[list[EdgeRow], int]:
    row = conn.execute("SELECT links_changed FROM graph_state WHERE user_id = ?", (user_id,)).fetchone()
    return user_edges(conn, user_id), (row[0] if row else 0)


class GraphRanker:
    """Computes and stores PageRank and communities per user."""

    def __init__(self, db: Database, *, link_threshold: int = 100, interval: float = 300.0) -> None:
        self.db = db
        self.link_threshold = link_threshold
        self.interval = interval
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="engram-graph")
        self._lock = asyncio.Lock()

    def close(self) -> None:
        """Stop the graph executor."""
        self._executor.shutdown(wait=True)

    async def compute(self, fn: Callable[[], T]) -> T:
        """Run ``fn`` on the graph executor (networkx work: off the event loop, one at a time)."""
        return await asyncio.get_running_loop().run_in_executor(self._executor, fn)

    async def refresh_pagerank(self, user_id: int) -> dict[str, Any]:
        """Recompute and store the user's PageRank now; returns counts and timing."""
        async with self._lock:
            started = datetime.now(UTC)
            edges, seen = await self.db.aread(lambda conn: _snapshot(conn, user_id))
            scores = await self.compute(lambda: pagerank(build_graph(edges)))
            computed = datetime.now(UTC)

            def tx(conn: Any) -> None:
                conn.execute("UPDATE memories SET pagerank = 0.0 WHERE user_id = ? AND pagerank != 0.0", (user_id,))
                conn.executemany(
                    "UPDATE memories SET pagerank = ? WHERE id = ? AND user_id = ?",
                    [(float(score), node, user_id) for node, score in scores.items()],
                )
                conn.execute(
                    "INSERT INTO graph_state (user_id, links_changed, pagerank_at) VALUES (?, 0, ?)"
                    " ON CONFLICT(user_id) DO UPDATE SET links_changed = max(links_changed - ?, 0),"
                    " pagerank_at = excluded.pagerank_at",
                    (user_id, now_iso(), seen),
                )
                audit.record(conn, None, "graph.pagerank", None, None, {"nodes": len(scores)}, user_id=user_id)

            await self.db.awrite(tx)
        return {
            "user_id": user_id,
            "nodes": len(scores),
            "edges": len(edges),
            "compute_ms": round((computed - started).total_seconds() * 1000, 3),
        }

    async def detect_communities(self, user_id: int) -> dict[str, Any]:
        """Run Louvain over the user's graph and store each memory's community."""
        async with self._lock:
            edges, _ = await self.db.aread(lambda conn: _snapshot(conn, user_id))
            parts = await self.compute(lambda: communities(build_graph(edges)))

            def tx(conn: Any) -> None:
                conn.execute(
                    "UPDATE memories SET community = NULL WHERE user_id = ? AND community IS NOT NULL",
                    (user_id,),
                )
                conn.executemany(
                    "UPDATE memories SET community = ? WHERE id = ? AND user_id = ?",
                    [(label, node, user_id) for node, label in parts.items()],
                )
                conn.execute(
                    "INSERT INTO graph_state (user_id, communities_at) VALUES (?, ?)"
                    " ON CONFLICT(user_id) DO UPDATE SET communities_at = excluded.communities_at",
                    (user_id, now_iso()),
                )
                audit.record(conn, None, "graph.communities", None, None, {"nodes": len(parts)}, user_id=user_id)

            await self.db.awrite(tx)
        return {"user_id": user_id, "nodes": len(parts), "communities": len(set(parts.values()))}

    async def due_users(self) -> list[int]:
        """Users whose PageRank should be refreshed now."""
        stale = format_ts(datetime.now(UTC) - timedelta(seconds=self.interval))
        return await self.db.aread(
            lambda conn: [
                r[0]
                for r in conn.execute(
                    "SELECT user_id FROM graph_state WHERE links_changed >= ?"
                    " OR (links_changed > 0 AND (pagerank_at IS NULL OR pagerank_at <= ?))",
                    (self.link_threshold, stale),
                )
            ]
        )

    async def tick(self) -> int:
        """Scheduler task: refresh every due user's PageRank; returns how many were refreshed."""
        users = await self.due_users()
        for user_id in users:
            await self.refresh_pagerank(user_id)
        return len(users)

    async def all_communities(self) -> list[dict[str, Any]]:
        """Scheduler task and admin route: Louvain for every user that has links."""
        users = await self.db.aread(
            lambda conn: [r[0] for r in conn.execute("SELECT DISTINCT user_id FROM memory_links ORDER BY user_id")]
        )
        return [await self.detect_communities(user_id) for user_id in users]
