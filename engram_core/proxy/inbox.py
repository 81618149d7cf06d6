"""The review inbox: memories stored with ``status: pending`` wait here until approved, rejected or edited.

A pending (or rejected) memory is never recalled: every search, recall and context scope requires
``status = 'approved'`` (search/filters.py), so only an approval makes it visible. The status change is a
``memories`` UPDATE, so the change feed invalidates cached searches by construction. Editing makes a new
version (``MemoryService.update``) with the changes, approved.
"""

from __future__ import annotations

import json
from typing import Any

from ..auth.context import AuthContext
from ..errors import Invalid, NotFound
from ..memories.records import row_decay_score
from ..model.memories import VISIBLE
from ..timeutil import now_iso
from ..validation import INT_MAX, Field, Schema
from .deps import ProxyDeps

__all__ = ["BULK", "EDIT", "LIST", "REJECT", "InboxService"]


def _ids(value: Any) -> list[int]:
    ok = isinstance(value, list) and 0 < len(value) <= 200
    if not ok or not all(isinstance(i, int) and not isinstance(i, bool) and 1 <= i <= INT_MAX for i in value):
        raise Invalid("ids", "must be a list of 1 to 200 memory ids (positive integers)")
    return [int(i) for i in value]


LIST = Schema(Field("limit", "int", default=50, min=1, max=200), Field("offset", "int", default=0, min=0))
REJECT = Schema(Field("reason", "str", max_len=500), description="Reject a pending memory.")
EDIT = Schema(
    Field("content", "text", max_len=256 * 1024),
    Field("category", "text", max_len=100),
    Field("importance", "int", min=1, max=10),
    Field("tags", "tags", max_items=50),
    description="Edit a pending memory and approve it (a new version).",
)
BULK = Schema(
    Field(
        "ids",
        "any",
        required=True,
        check=_ids,
        schema={
            "type": "array",
            "minItems": 1,
            "maxItems": 200,
            "items": {"type": "integer", "minimum": 1, "maximum": INT_MAX},
        },
        help="Pending memory ids (at most 200).",
    ),
    Field("action", "str", required=True, choices=("approve", "reject")),
    description="Approve or reject many pending memories in one transaction.",
)
_PENDING = " AND m.status = 'pending' AND " + VISIBLE


def _pending(r: Any) -> dict[str, Any]:
    return {"id": r["id"], "content": r["content"], "category": r["category"], "source": r["source"],
            "session_id": r["session_id"], "importance": r["importance"], "created_at": r["created_at"],
            "tags": json.loads(r["tags"]), "decay_score": row_decay_score(r), "status": r["status"],
            "model": r["embedding_model"]}  # fmt: skip


class InboxService:
    def __init__(self, deps: ProxyDeps) -> None:
        self.deps = deps
        self.db = deps.db

    async def pending(self, auth: AuthContext, query: dict[str, Any]) -> dict[str, Any]:
        auth.require("read")
        q = LIST.parse(query)
        args = {"user": auth.user_id, "now": now_iso(), "limit": q["limit"], "offset": q["offset"]}

        def run(conn: Any) -> dict[str, Any]:
            total = conn.execute(f"SELECT count(*) FROM memories m WHERE m.user_id = :user{_PENDING}", args).fetchone()
            sql = f"SELECT m.* FROM memories m WHERE m.user_id = :user{_PENDING} ORDER BY m.created_at, m.id"
            rows = conn.execute(sql + " LIMIT :limit OFFSET :offset", args).fetchall()
            return {"pending": [_pending(r) for r in rows], "count": len(rows), "total": total[0],
                    "offset": q["offset"], "limit": q["limit"]}  # fmt: skip

        return await self.db.aread(run)

    async def _set(self, auth: AuthContext, ids: list[int], status: str) -> list[int]:
        """Set ``status`` on those of ``ids`` that are the user's pending memories; returns them."""
        now = now_iso()

        def tx(conn: Any) -> list[int]:
            done = []
            for mid in dict.fromkeys(ids):
                cur = conn.execute(f"UPDATE memories AS m SET status = :status, updated_at = :now WHERE m.id = :id"
                                   f" AND m.user_id = :user{_PENDING}",
                                   {"status": status, "now": now, "id": mid, "user": auth.user_id})  # fmt: skip
                if cur.rowcount:
                    done.append(mid)
            return done

        return await self.db.awrite(tx)

    async def _one(self, auth: AuthContext, memory_id: int, status: str) -> None:
        auth.require("write")
        if not await self._set(auth, [memory_id], status):
            raise NotFound(f"no pending memory {memory_id}")

    async def approve(self, auth: AuthContext, memory_id: int) -> dict[str, Any]:
        await self._one(auth, memory_id, "approved")
        return {"approved": True, "id": memory_id}

    async def reject(self, auth: AuthContext, memory_id: int, body: Any) -> dict[str, Any]:
        REJECT.parse(body)
        await self._one(auth, memory_id, "rejected")
        return {"rejected": True, "id": memory_id}

    async def edit(self, auth: AuthContext, memory_id: int, body: Any) -> dict[str, Any]:
        auth.require("write")
        changes = {k: v for k, v in EDIT.parse(body).items() if v is not None}
        args = {"id": memory_id, "user": auth.user_id, "now": now_iso()}
        found = await self.db.aread(lambda conn: conn.execute(
            f"SELECT 1 FROM memories m WHERE m.id = :id AND m.user_id = :user{_PENDING}", args).fetchone())  # fmt: skip
        if found is None:
            raise NotFound(f"no pending memory {memory_id}")
        updated = await self.deps.memories.update(auth, memory_id, {**changes, "status": "approved"})
        return {"approved": True, "edited": True, "id": updated["new_id"], "previous_id": memory_id}

    async def bulk(self, auth: AuthContext, body: Any) -> dict[str, Any]:
        auth.require("write")
        q = BULK.parse(body)
        ids = list(q["ids"])
        done = await self._set(auth, ids, "approved" if q["action"] == "approve" else "rejected")
        return {"action": q["action"], "count": len(done), "ids": done}
