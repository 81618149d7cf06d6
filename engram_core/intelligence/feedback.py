"""Retrieval feedback: ``POST /feedback {memory_id, rating}`` and ``GET /feedback/stats``.

A rating (helpful +1, irrelevant -1, off-topic -1, outdated -2) is recorded as a row and added to the
memory's ``feedback_score`` (clamped to [-5, 5]); search multiplies the memory's score by
``1 + 0.06 * feedback_score`` (``search.boosts.feedback_boost``: 0.7 .. 1.3), so a memory marked helpful
climbs and one marked outdated sinks without being hidden. Rating a memory stamps its root version, so
the score follows the memory's newest version (search reads the latest version's row).
"""

from __future__ import annotations

from typing import Any

from ..auth.context import AuthContext
from ..model.memories import owned_memory
from ..storage.database import Database
from ..timeutil import now_iso
from ..validation import Field, Schema

__all__ = ["DELTAS", "FEEDBACK", "FeedbackService", "rate_memory"]

DELTAS = {"helpful": 1.0, "irrelevant": -1.0, "off-topic": -1.0, "outdated": -2.0}
SCORE_LIMIT = 5.0

FEEDBACK = Schema(
    Field("memory_id", "int", required=True, min=1, aliases=("id",)),
    Field("rating", "str", required=True, choices=tuple(DELTAS), help="helpful, irrelevant, off-topic or outdated."),
    Field("context", "str", max_len=4000, aliases=("query",), help="What was searched when it was rated."),
    description="Rate a retrieved memory; its search score follows.",
)


def rate_memory(conn: Any, user_id: int, memory_id: int, rating: str, context: str | None) -> dict[str, Any]:
    """Record one rating (a key of ``DELTAS``) of the user's memory inside the caller's transaction ``conn``.

    Adds the rating's delta to ``feedback_score`` (clamped to +-``SCORE_LIMIT``) on every version of the
    memory and returns ``{ok, memory_id, rating, feedback_score, created_at}``. ``NotFound`` if the memory is
    not the user's. Used by ``POST /feedback`` and by brain feedback (``POST /brain/feedback``).
    """
    row = owned_memory(conn, user_id, memory_id)
    now = now_iso()
    conn.execute(
        "INSERT INTO memory_feedback (user_id, memory_id, rating, context, created_at) VALUES (?, ?, ?, ?, ?)",
        (user_id, memory_id, rating, context, now),
    )
    # Every version of the memory carries the score, so the latest version (what search reads) has it.
    root = row["root_id"] or row["id"]
    conn.execute(
        "UPDATE memories SET feedback_score = max(?, min(?, feedback_score + ?))"
        " WHERE user_id = ? AND (id = ? OR root_id = ?)",
        (-SCORE_LIMIT, SCORE_LIMIT, DELTAS[rating], user_id, root, root),
    )
    score = conn.execute("SELECT feedback_score FROM memories WHERE id = ?", (memory_id,)).fetchone()[0]
    return {"ok": True, "memory_id": memory_id, "rating": rating, "feedback_score": score, "created_at": now}


def _stats(conn: Any, user_id: int) -> dict[str, Any]:
    counts = dict.fromkeys(DELTAS, 0)
    for r in conn.execute("SELECT rating, count(*) FROM memory_feedback WHERE user_id = ? GROUP BY rating", (user_id,)):
        counts[r[0]] = r[1]
    top = conn.execute(
        "SELECT f.memory_id, sum(CASE f.rating WHEN 'helpful' THEN 1 ELSE 0 END) AS helpful, count(*) AS n,"
        " max(m.feedback_score) AS score FROM memory_feedback f JOIN memories m ON m.id = f.memory_id"
        " WHERE f.user_id = ? GROUP BY f.memory_id ORDER BY n DESC, f.memory_id LIMIT 20",
        (user_id,),
    ).fetchall()
    return {
        "helpful": counts["helpful"],
        "irrelevant": counts["irrelevant"],
        "off_topic": counts["off-topic"],
        "outdated": counts["outdated"],
        "total": sum(counts.values()),
        "memories": [
            {"memory_id": r["memory_id"], "ratings": r["n"], "helpful": r["helpful"], "feedback_score": r["score"]}
            for r in top
        ],  # fmt: skip
    }


class FeedbackService:
    def __init__(self, db: Database) -> None:
        self.db = db  # search caches follow the feedback_score change through the change feed

    async def rate(self, auth: AuthContext, body: Any) -> dict[str, Any]:
        auth.require("write")
        q = FEEDBACK.parse(body)
        return await self.db.awrite(lambda c: rate_memory(c, auth.user_id, q["memory_id"], q["rating"], q["context"]))

    async def stats(self, auth: AuthContext) -> dict[str, Any]:
        auth.require("read")
        return await self.db.aread(lambda c: _stats(c, auth.user_id))
