"""Near-duplicate pairs among a user's memories (SimHash) and merging them.

``find_pairs`` compares the user's newest ``RECENT_WINDOW`` visible memories pairwise (numpy XOR and
popcount: 2000 fingerprints in a few milliseconds). ``merge`` groups pairs into clusters (union-find),
keeps the oldest memory of each cluster, marks the others consolidated (hidden from reads and
search, still restorable from the database), links keeper -> merged with a ``consolidates`` link and
adds the merged memories' source counts to the keeper.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..auth import audit
from ..auth.context import AuthContext
from ..model.links import bump_links_changed, upsert_link
from ..model.memories import VISIBLE
from ..settings import Settings
from ..storage.database import Database
from ..timeutil import now_iso
from ..validation import Field, Schema
from .dedup import RECENT_WINDOW
from .simhash import to_unsigned

__all__ = ["DEDUPLICATE", "DUPLICATES", "DedupService", "find_pairs", "merge"]

DUPLICATES = Schema(
    Field("distance", "int", min=0, max=16, help="Hamming distance (default ENGRAM_DEDUP_DISTANCE)."),
    Field("limit", "int", default=100, min=1, max=1000, help="Most pairs returned."),
)
DEDUPLICATE = Schema(
    Field("distance", "int", min=0, max=16, help="Hamming distance (default ENGRAM_DEDUP_DISTANCE)."),
    Field("dry_run", "bool", default=False, help="Report what would be merged, change nothing."),
    Field("limit", "int", default=1000, min=1, max=10000, help="Most pairs considered."),
    description="Merge near-duplicate memories into the oldest of each group.",
)


def find_pairs(conn: Any, user_id: int, max_distance: int, limit: int) -> list[dict[str, Any]]:
    """Pairs ``{a, b, distance}`` (a < b) of the user's recent visible memories within ``max_distance``."""
    rows = conn.execute(
        "SELECT m.id, m.simhash FROM memories m WHERE m.user_id = :user AND m.simhash IS NOT NULL AND "
        + VISIBLE
        + " ORDER BY m.id DESC LIMIT :window",
        {"user": user_id, "now": now_iso(), "window": RECENT_WINDOW},
    ).fetchall()
    if len(rows) < 2:
        return []
    ids = np.array([r[0] for r in rows], dtype=np.int64)
    fps = np.array([to_unsigned(r[1]) for r in rows], dtype=np.uint64)
    pairs: list[dict[str, Any]] = []
    for i in range(len(rows) - 1):
        dist = np.bitwise_count(fps[i + 1 :] ^ fps[i])
        for j in np.flatnonzero(dist <= max_distance):
            a, b = sorted((int(ids[i]), int(ids[i + 1 + j])))
            pairs.append({"a": a, "b": b, "distance": int(dist[j])})
    pairs.sort(key=lambda p: (p["distance"], p["a"], p["b"]))
    return pairs[:limit]


def _clusters(pairs: list[dict[str, Any]]) -> dict[int, list[int]]:
    parent: dict[int, int] = {}

    def root(x: int) -> int:
        parent.setdefault(x, x)
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for p in pairs:
        ra, rb = root(p["a"]), root(p["b"])
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)
    groups: dict[int, list[int]] = {}
    for node in list(parent):
        groups.setdefault(root(node), []).append(node)
    return {keeper: sorted(m for m in members if m != keeper) for keeper, members in groups.items()}


def merge(conn: Any, auth: AuthContext, max_distance: int, limit: int, dry_run: bool) -> dict[str, Any]:
    """Merge the user's near-duplicates into the oldest of each cluster (see the module docstring)."""
    pairs = find_pairs(conn, auth.user_id, max_distance, limit)
    groups = _clusters(pairs)
    merged: list[dict[str, Any]] = [{"kept": k, "merged": others} for k, others in sorted(groups.items())]
    merged_count = sum(len(others) for others in groups.values())
    if dry_run or not groups:
        return {"dry_run": dry_run, "groups": merged, "merged_count": merged_count}
    now = now_iso()
    links = 0
    for keeper, others in groups.items():
        marks = ", ".join("?" for _ in others)
        extra = conn.execute(
            f"SELECT coalesce(sum(source_count), 0) FROM memories WHERE id IN ({marks})", others
        ).fetchone()[0]
        conn.execute(
            "UPDATE memories SET source_count = source_count + ?, updated_at = ? WHERE id = ?",
            (extra, now, keeper),
        )
        conn.execute(f"UPDATE memories SET is_consolidated = 1, updated_at = ? WHERE id IN ({marks})", (now, *others))
        for other in others:
            links += upsert_link(conn, auth.user_id, keeper, other, "consolidates", 1.0)
        audit.record(conn, auth, "memory.deduplicate", "memory", keeper, {"merged": others})
    bump_links_changed(conn, auth.user_id, links)
    return {"dry_run": False, "groups": merged, "merged_count": merged_count}


class DedupService:
    """The /duplicates and /deduplicate routes for one authenticated caller at a time."""

    def __init__(self, db: Database, settings: Settings) -> None:
        self.db = db
        self.settings = settings

    async def duplicates(self, auth: AuthContext, query: Any) -> dict[str, Any]:
        """Near-duplicate pairs among the caller's recent memories."""
        auth.require("read")
        q = DUPLICATES.parse(query)
        distance = self.settings.dedup_distance if q["distance"] is None else q["distance"]
        pairs = await self.db.aread(lambda conn: find_pairs(conn, auth.user_id, distance, q["limit"]))
        return {"pairs": pairs, "count": len(pairs), "distance": distance}

    async def deduplicate(self, auth: AuthContext, body: Any) -> dict[str, Any]:
        """Merge near-duplicates (one transaction; ``dry_run`` changes nothing)."""
        auth.require("write")
        q = DEDUPLICATE.parse(body)
        distance = self.settings.dedup_distance if q["distance"] is None else q["distance"]
        if q["dry_run"]:
            return await self.db.aread(lambda conn: merge(conn, auth, distance, q["limit"], True))
        return await self.db.awrite(lambda conn: merge(conn, auth, distance, q["limit"], False))
