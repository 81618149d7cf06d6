"""SearchService: runs the channels for one user and shapes the results.

The FTS5 channel is live; the vector, personality and graph channels and RRF fusion plug in here.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

from ..auth.context import AuthContext
from ..memories.records import row_decay_score
from ..settings import Settings
from ..storage.database import Database
from .channels.fts import fts_channel
from .schemas import SEARCH

__all__ = ["SearchService"]


class SearchService:
    def __init__(self, db: Database, settings: Settings) -> None:
        self.db = db
        self.settings = settings
        #: Called with (user_id, ids) after every search: implicit FSRS reviews (set by Engram).
        self.recalled: Callable[[int, list[int]], None] | None = None

    async def search(self, auth: AuthContext, body: Any) -> dict[str, Any]:
        auth.require("read")
        q = SEARCH.parse(body)
        started = time.perf_counter()

        def run(conn: Any) -> list[dict[str, Any]]:
            hits = fts_channel(conn, auth.user_id, q["query"], q, q["limit"])
            if not hits:
                return []
            top = max(score for _, score in hits) or 1.0
            ids = [mid for mid, _ in hits]
            marks = ", ".join("?" for _ in ids)
            rows = {r["id"]: r for r in conn.execute(f"SELECT * FROM memories WHERE id IN ({marks})", ids)}
            out = []
            for mid, fts_score in hits:
                r = rows[mid]
                score = fts_score / top if top > 0 else 0.0
                if q["threshold"] is not None and score < q["threshold"]:
                    continue
                out.append(
                    {
                        "id": mid,
                        "content": r["content"],
                        "category": r["category"],
                        "source": r["source"],
                        "importance": r["importance"],
                        "created_at": r["created_at"],
                        "tags": json.loads(r["tags"]),
                        "score": round(score, 6),
                        "search_type": "fts",
                        "channels": ["fts"],
                        "decay_score": row_decay_score(r),
                        "question_type": q["question_type"] or "fact_recall",
                        "semantic_score": None,
                        "fts_score": round(fts_score, 6),
                        "graph_score": None,
                        "combined_score": round(score, 6),
                    }
                )
            return out

        results = await self.db.aread(run)
        if self.recalled is not None and results:
            self.recalled(auth.user_id, [r["id"] for r in results])
        return {
            "results": results,
            "abstained": not results,
            "top_score": results[0]["score"] if results else 0.0,
            "took_ms": round((time.perf_counter() - started) * 1000, 3),
        }
