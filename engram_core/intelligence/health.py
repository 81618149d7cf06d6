"""``GET /memory-health``: what in a user's memory needs care, with counts and (up to 50) ids each.

The reference servers' keys (total_memories, without_embeddings, archived, superseded, with_links,
avg_importance, oldest_memory, embedding_coverage_pct) plus: ``stale`` (older than 90 days, not read in 90
days, importance below 7), ``duplicates`` (near-duplicate SimHash pairs among the newest memories),
``unlinked`` (no link either way), ``contradicted`` (the target of a ``contradicts`` link), ``never_recalled``
(never read nor returned by a search since stored) and ``consolidated`` (hidden by /consolidate).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from ..auth.context import AuthContext
from ..memories.duplicates import find_pairs
from ..model.memories import VISIBLE
from ..settings import Settings
from ..storage.database import Database
from ..timeutil import format_ts, now_iso

__all__ = ["MemoryHealthService", "memory_health"]

IDS = 50
STALE_DAYS = 90


def _ids(conn: Any, user_id: int, condition: str, params: tuple[Any, ...] = ()) -> dict[str, Any]:
    sql = f"FROM memories m WHERE m.user_id = ? AND {VISIBLE.replace(':now', '?')} AND {condition}"
    args = (user_id, now_iso(), *params)
    count = conn.execute(f"SELECT count(*) {sql}", args).fetchone()[0]
    ids = [int(r[0]) for r in conn.execute(f"SELECT m.id {sql} ORDER BY m.id LIMIT {IDS}", args)]
    return {"count": count, "ids": ids}


def memory_health(conn: Any, user_id: int, dedup_distance: int) -> dict[str, Any]:
    vis = VISIBLE.replace(":now", "?")
    now = now_iso()
    base = conn.execute(
        "SELECT count(*) AS n, sum(m.embedding IS NULL) AS no_vec, avg(m.importance) AS imp,"
        f" min(m.created_at) AS oldest FROM memories m WHERE m.user_id = ? AND {vis}",
        (user_id, now),
    ).fetchone()
    total = int(base["n"])
    archived = conn.execute(
        f"SELECT count(*) FROM memories m WHERE m.user_id = ? AND m.is_archived = 1 AND {vis}", (user_id, now)
    ).fetchone()[0]
    linked = "EXISTS (SELECT 1 FROM memory_links l WHERE l.user_id = m.user_id AND m.id IN (l.source_id, l.target_id))"
    with_links = conn.execute(f"SELECT count(*) FROM memories m WHERE m.user_id = ? AND {vis} AND {linked}",
                              (user_id, now)).fetchone()[0]  # fmt: skip
    cutoff = format_ts(datetime.now(UTC) - timedelta(days=STALE_DAYS))
    pairs = find_pairs(conn, user_id, dedup_distance, 500)
    no_vec = int(base["no_vec"] or 0)
    return {
        "total_memories": total,
        "without_embeddings": no_vec,
        "archived": archived,
        "superseded": _ids(
            conn,
            user_id,
            "EXISTS (SELECT 1 FROM memory_links l WHERE l.target_id = m.id AND l.link_type = 'supersedes')",
        )["count"],  # fmt: skip
        "with_links": with_links,
        "avg_importance": round(float(base["imp"]), 3) if base["imp"] is not None else None,
        "oldest_memory": base["oldest"],
        "embedding_coverage_pct": round(100.0 * (total - no_vec) / total, 1) if total else 100.0,
        "stale": _ids(
            conn,
            user_id,
            "m.created_at < ? AND coalesce(m.last_accessed_at, m.fsrs_last_review,"
            " m.created_at) < ? AND m.importance < 7",
            (cutoff, cutoff),
        ),  # fmt: skip
        "duplicates": {"count": len(pairs), "pairs": [[p["a"], p["b"]] for p in pairs[:IDS]]},
        "unlinked": _ids(conn, user_id, f"NOT {linked}"),
        "contradicted": _ids(
            conn,
            user_id,
            "EXISTS (SELECT 1 FROM memory_links l WHERE l.target_id = m.id AND l.link_type = 'contradicts')",
        ),  # fmt: skip
        "never_recalled": _ids(conn, user_id, "m.access_count = 0 AND m.fsrs_reps <= 1"),
        "consolidated": conn.execute(
            "SELECT count(*) FROM memories WHERE user_id = ? AND is_consolidated = 1 AND is_deleted = 0", (user_id,)
        ).fetchone()[0],  # fmt: skip
    }


class MemoryHealthService:
    def __init__(self, db: Database, settings: Settings) -> None:
        self.db = db
        self.settings = settings

    async def report(self, auth: AuthContext) -> dict[str, Any]:
        auth.require("read")
        return await self.db.aread(lambda c: memory_health(c, auth.user_id, self.settings.dedup_distance))
