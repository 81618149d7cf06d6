"""Retrieval logs: one row per retrieval the proxy or a session context made, so a developer can see why a
memory appeared (the query, each memory's id, score, kind and channels, the tokens injected, the
conversation, timings). Rows are the user's; ``ENGRAM_RETRIEVAL_LOG_RETENTION_DAYS`` bounds their age
(a periodic purge). No provider key or message text beyond the query is ever written here.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from ..auth.context import AuthContext
from ..storage.database import Database
from ..storage.owned import owned_row
from ..timeutil import format_ts, now_iso
from ..validation import Field, Schema

__all__ = ["LIST_LOGS", "RetrievalLogs"]

LIST_LOGS = Schema(
    Field("limit", "int", default=50, min=1, max=500),
    Field("offset", "int", default=0, min=0),
    Field("conversation_id", "str", max_len=200, help="Only this conversation's retrievals."),
    Field("origin", "str", choices=("proxy", "session")),
)


def _row(r: Any) -> dict[str, Any]:
    return {
        "id": r["id"],
        "origin": r["origin"],
        "conversation_id": r["conversation_id"],
        "query": r["query"],
        "memories": json.loads(r["memories"]),
        "tokens_injected": r["tokens_injected"],
        "injected": bool(r["injected"]),
        "provider": r["provider"],
        "model": r["model"],
        "status": r["status"],
        "error": r["error"],
        "timings": json.loads(r["timings"]),
        "created_at": r["created_at"],
    }


class RetrievalLogs:
    def __init__(self, db: Database, retention_days: float) -> None:
        self.db = db
        self.retention_days = retention_days

    async def record(self, user_id: int, entry: dict[str, Any]) -> int:
        def tx(conn: Any) -> int:
            cur = conn.execute(
                "INSERT INTO retrieval_logs (user_id, origin, conversation_id, query, memories, tokens_injected,"
                " injected, provider, model, status, error, timings, created_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (user_id, entry.get("origin", "proxy"), entry.get("conversation_id"), entry.get("query", ""),
                 json.dumps(entry.get("memories", [])), int(entry.get("tokens_injected", 0)),
                 int(bool(entry.get("injected", True))), entry.get("provider"), entry.get("model"),
                 entry.get("status"), entry.get("error"), json.dumps(entry.get("timings", {})), now_iso()),
            )  # fmt: skip
            return int(cur.lastrowid)

        return await self.db.awrite(tx)

    async def list(self, auth: AuthContext, query: dict[str, Any]) -> dict[str, Any]:
        auth.require("read")
        q = LIST_LOGS.parse(query)
        where, params = "user_id = ?", [auth.user_id]
        for name in ("conversation_id", "origin"):
            if q[name]:
                where += f" AND {name} = ?"
                params.append(q[name])

        def run(conn: Any) -> dict[str, Any]:
            total = conn.execute(f"SELECT count(*) FROM retrieval_logs WHERE {where}", params).fetchone()[0]
            rows = conn.execute(
                f"SELECT * FROM retrieval_logs WHERE {where} ORDER BY id DESC LIMIT ? OFFSET ?",
                (*params, q["limit"], q["offset"]),
            )
            logs = [_row(r) for r in rows]
            return {"logs": logs, "count": len(logs), "total": total, "limit": q["limit"], "offset": q["offset"]}

        return await self.db.aread(run)

    async def get(self, auth: AuthContext, log_id: int) -> dict[str, Any]:
        auth.require("read")
        return _row(await self.db.aread(lambda conn: owned_row(conn, "retrieval_logs", auth.user_id, log_id, "log")))

    async def purge(self) -> int:
        """Delete logs past the retention (every user's; nothing with retention 0)."""
        if self.retention_days <= 0:
            return 0
        cutoff = format_ts(datetime.now(UTC) - timedelta(days=self.retention_days))
        return int(
            await self.db.awrite(
                lambda conn: conn.execute("DELETE FROM retrieval_logs WHERE created_at < ?", (cutoff,)).rowcount
            )
        )
