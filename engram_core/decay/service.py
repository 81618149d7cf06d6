"""FsrsService: explicit reviews, state, backfill, recall-due and decay scores over the database.

The formulas live in ``fsrs6`` / ``review`` (no I/O); this module reads and writes memory rows with
them. Every write is one transaction with an audit row.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from ..auth import audit
from ..auth.context import AuthContext
from ..model.fts import build_match
from ..model.memories import VISIBLE, owned_memory
from ..storage.database import Database
from ..timeutil import format_ts, now_iso, parse_datetime
from ..validation import Field, Schema
from .apply import apply_review, row_state, write_state
from .review import decay_score, initial_state, next_review_days, refresh, retrievability
from .state import FsrsState

__all__ = ["DUE", "FsrsService", "REVIEW", "SCORES", "STATE", "fsrs_dict"]

REVIEW = Schema(
    Field("id", "int", required=True, min=1, help="Memory id."),
    Field("grade", "int", required=True, min=1, max=4, help="1 again, 2 hard, 3 good, 4 easy."),
    description="Review a memory explicitly.",
)
STATE = Schema(Field("id", "int", required=True, min=1))
DUE = Schema(
    Field("topic", "str", max_len=500, help="Only memories matching this full-text query."),
    Field("limit", "int", default=20, min=1, max=500),
    Field(
        "threshold",
        "float",
        default=0.9,
        min=0.0,
        max=1.0,
        help="Retrievability below which a memory is due.",
    ),
)
SCORES = Schema(
    Field("limit", "int", default=50, min=1, max=1000),
    Field("order", "str", default="asc", choices=("asc", "desc"), help="asc: most faded first."),
)


def fsrs_dict(state: FsrsState) -> dict[str, Any]:
    """The public shape of an FSRS state."""
    return {
        "stability": round(state.stability, 6),
        "difficulty": round(state.difficulty, 6),
        "storage_strength": round(state.storage_strength, 6),
        "retrieval_strength": round(state.retrieval_strength, 6),
        "learning_state": state.learning_state.value,
        "reps": state.reps,
        "lapses": state.lapses,
        "last_review_at": format_ts(state.last_review_at),
    }


def _visible_rows(conn: Any, user_id: int, topic: str | None = None) -> list[Any]:
    params: dict[str, Any] = {"user": user_id, "now": now_iso()}
    sql = "SELECT m.* FROM memories m WHERE m.user_id = :user AND m.fsrs_stability IS NOT NULL AND " + VISIBLE
    if topic:
        match = build_match(topic)
        if match is None:
            return []
        params["match"] = match
        sql += " AND m.id IN (SELECT rowid FROM memories_fts WHERE memories_fts MATCH :match)"
    rows: list[Any] = conn.execute(sql, params).fetchall()
    return rows


class FsrsService:
    """FSRS routes for one authenticated caller at a time."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def review(self, auth: AuthContext, body: Any) -> dict[str, Any]:
        """Apply an explicit review graded 1-4 to one of the caller's memories."""
        auth.require("write")
        q = REVIEW.parse(body)

        def tx(conn: Any) -> dict[str, Any]:
            row = owned_memory(conn, auth.user_id, q["id"])
            state = apply_review(conn, row, q["grade"])
            audit.record(conn, auth, "fsrs.review", "memory", q["id"], {"grade": q["grade"]})
            return {"id": q["id"], "fsrs": fsrs_dict(state)}

        return await self.db.awrite(tx)

    async def state(self, auth: AuthContext, query: Any) -> dict[str, Any]:
        """Retrievability now, the days until it falls to 0.9, and the stored state."""
        auth.require("read")
        memory_id = STATE.parse(query)["id"]

        def run(conn: Any) -> dict[str, Any]:
            state = row_state(owned_memory(conn, auth.user_id, memory_id))
            if state is None:
                return {"id": memory_id, "retrievability": None, "next_review_days": None, "fsrs": None}
            now = datetime.now(UTC)
            days_left = next_review_days(state) - (now - state.last_review_at).total_seconds() / 86400.0
            return {
                "id": memory_id,
                "retrievability": round(retrievability(state, now), 6),
                "next_review_days": round(next_review_days(state), 6),
                "due_in_days": round(days_left, 6),
                "fsrs": fsrs_dict(state),
            }

        return await self.db.aread(run)

    async def init(self, auth: AuthContext) -> dict[str, Any]:
        """Admin: give every memory without an FSRS state its initial Good review (at its creation)."""
        auth.require_admin()

        def tx(conn: Any) -> dict[str, Any]:
            now = datetime.now(UTC)
            rows = conn.execute("SELECT id, created_at FROM memories WHERE fsrs_stability IS NULL").fetchall()
            for r in rows:
                write_state(conn, r["id"], refresh(initial_state(parse_datetime(r["created_at"], "created_at")), now))
            audit.record(conn, auth, "fsrs.init", None, None, {"initialized": len(rows)})
            return {"initialized": len(rows)}

        return await self.db.awrite(tx)

    async def recall_due(self, auth: AuthContext, query: Any) -> dict[str, Any]:
        """The caller's memories whose retrievability fell below the threshold, most faded first."""
        auth.require("read")
        q = DUE.parse(query)

        def run(conn: Any) -> list[dict[str, Any]]:
            now = datetime.now(UTC)
            due = []
            for row in _visible_rows(conn, auth.user_id, q["topic"]):
                state = FsrsState.from_row(row)
                r = retrievability(state, now)
                if r < q["threshold"]:
                    due.append(_summary(row, state, r, now))
            due.sort(key=lambda item: item["retrievability"])
            return due[: q["limit"]]

        results = await self.db.aread(run)
        return {"results": results, "count": len(results), "threshold": q["threshold"]}

    async def refresh(self, auth: AuthContext) -> dict[str, Any]:
        """Recompute the retrieval-strength snapshot of every one of the caller's memories."""
        auth.require("write")

        def tx(conn: Any) -> dict[str, Any]:
            now = datetime.now(UTC)
            rows = conn.execute(
                "SELECT * FROM memories WHERE user_id = ? AND fsrs_stability IS NOT NULL AND is_deleted = 0",
                (auth.user_id,),
            ).fetchall()
            updates = [(retrievability(FsrsState.from_row(r), now), r["id"]) for r in rows]
            conn.executemany("UPDATE memories SET retrieval_strength = ? WHERE id = ?", updates)
            audit.record(conn, auth, "decay.refresh", None, None, {"refreshed": len(updates)})
            return {"refreshed": len(updates)}

        return await self.db.awrite(tx)

    async def scores(self, auth: AuthContext, query: Any) -> dict[str, Any]:
        """Decay scores of the caller's visible memories (default: most faded first)."""
        auth.require("read")
        q = SCORES.parse(query)

        def run(conn: Any) -> list[dict[str, Any]]:
            now = datetime.now(UTC)
            out = []
            for row in _visible_rows(conn, auth.user_id):
                state = FsrsState.from_row(row)
                out.append(_summary(row, state, retrievability(state, now), now))
            out.sort(key=lambda item: item["decay_score"], reverse=q["order"] == "desc")
            return out[: q["limit"]]

        results = await self.db.aread(run)
        return {"results": results, "count": len(results)}


def _summary(row: Any, state: FsrsState, r: float, now: datetime) -> dict[str, Any]:
    return {
        "id": row["id"],
        "content": row["content"][:200],
        "importance": row["importance"],
        "retrievability": round(r, 6),
        "decay_score": round(decay_score(state, now, float(row["importance"])), 6),
        "stability": round(state.stability, 6),
        "storage_strength": round(state.storage_strength, 6),
        "last_review_at": row["fsrs_last_review"],
    }
