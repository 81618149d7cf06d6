"""The scratchpad: short-lived notes an agent keeps per session (key -> value), purged when their TTL runs out
(a periodic sweep, ``ENGRAM_SCRATCH_SWEEP_SECONDS``; reads never show an expired entry meanwhile). Notes
worth keeping are promoted into memories (``POST /scratch/{session}/promote``), one per key or combined.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from ..auth.context import AuthContext
from ..errors import Invalid, NotFound
from ..timeutil import format_ts, now_iso
from ..validation import TEXT_PATTERN, Field, Schema
from .deps import ProxyDeps

__all__ = ["PROMOTE", "PUT", "QUERY", "ScratchService"]


def _entries(value: Any) -> list[dict[str, str]]:
    if not isinstance(value, list):
        raise Invalid("entries", "must be a list of {key, value} objects")
    if len(value) > 200:
        raise Invalid("entries", "must have at most 200 items")
    out = []
    for i, e in enumerate(value):
        if not isinstance(e, dict) or not isinstance(e.get("key"), str) or not e["key"].strip():
            raise Invalid(f"entries[{i}].key", "must be a non-empty string")
        v = e.get("value", "")
        if not isinstance(v, str):
            raise Invalid(f"entries[{i}].value", "must be a string")
        if len(e["key"]) > 200 or len(v.encode()) > 64 * 1024:
            raise Invalid(f"entries[{i}]", "key must be at most 200 characters and value at most 64 KiB")
        out.append({"key": e["key"].strip(), "value": v})
    return out


PUT = Schema(
    Field("session", "str", default="default", max_len=200),
    Field("agent", "str", default="unknown", max_len=200),
    Field("model", "str", default="", max_len=200),
    Field("ttl", "int", default=30, min=1, max=1440, help="Minutes the entries live."),
    Field("entries", "any", check=_entries,
          schema={"type": "array", "maxItems": 200, "items": {"type": "object", "required": ["key"],
                  "properties": {"key": {"type": "string", "minLength": 1, "maxLength": 200, "pattern": TEXT_PATTERN},
                                 "value": {"type": "string"}}}}),
    description="Write scratchpad entries (upserted by session and key).",
)  # fmt: skip
QUERY = Schema(Field("session", "str", max_len=200), Field("agent", "str", max_len=200),
               Field("model", "str", max_len=200))  # fmt: skip
PROMOTE = Schema(
    Field("keys", "str_list", max_items=200, help="Only these keys (default: all of the session's)."),
    Field("combine", "bool", default=False, help="One memory for all the entries instead of one each."),
    Field("category", "str", default="discovery", max_len=100),
    description="Turn scratchpad entries into memories.",
)


def _row(r: Any) -> dict[str, Any]:
    return {k: r[k] for k in ("session", "agent", "model", "key", "value", "created_at", "updated_at", "expires_at")}


class ScratchService:
    def __init__(self, deps: ProxyDeps) -> None:
        self.deps = deps
        self.db = deps.db

    async def put(self, auth: AuthContext, body: Any) -> dict[str, Any]:
        auth.require("write")
        q = PUT.parse(body)
        now = now_iso()
        expires = format_ts(datetime.now(UTC) + timedelta(minutes=q["ttl"]))

        def tx(conn: Any) -> None:
            for e in q["entries"] or []:
                conn.execute(
                    "INSERT INTO scratch (user_id, session, agent, model, key, value, created_at, updated_at,"
                    " expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (user_id, session, key) DO UPDATE"
                    " SET value = excluded.value, agent = excluded.agent, model = excluded.model,"
                    " updated_at = excluded.updated_at, expires_at = excluded.expires_at",
                    (auth.user_id, q["session"], q["agent"], q["model"], e["key"], e["value"], now, now, expires),
                )

        await self.db.awrite(tx)
        return {"stored": len(q["entries"] or []), "session": q["session"], "ttl_minutes": q["ttl"]}

    async def get(self, auth: AuthContext, query: dict[str, Any]) -> dict[str, Any]:
        auth.require("read")
        q = QUERY.parse(query)
        where, params = "user_id = ? AND expires_at > ?", [auth.user_id, now_iso()]
        for name in ("session", "agent", "model"):
            if q[name] is not None:
                where += f" AND {name} = ?"
                params.append(q[name])
        rows = await self.db.aread(lambda conn: conn.execute(
            f"SELECT * FROM scratch WHERE {where} ORDER BY session, key", params).fetchall())  # fmt: skip
        return {"entries": [_row(r) for r in rows], "count": len(rows)}

    async def delete(self, auth: AuthContext, session: str, key: str | None = None) -> dict[str, Any]:
        auth.require("write")
        sql, params = "DELETE FROM scratch WHERE user_id = ? AND session = ?", [auth.user_id, session]
        if key is not None:
            sql += " AND key = ?"
            params.append(key)
        gone = await self.db.awrite(lambda conn: conn.execute(sql, params).rowcount)
        if not gone:
            raise NotFound(f"no scratchpad entries for session {session}" + (f" and key {key}" if key else ""))
        return {"deleted": True, "session": session, **({"key": key} if key is not None else {})}

    async def promote(self, auth: AuthContext, session: str, body: Any) -> dict[str, Any]:
        auth.require("write")
        q = PROMOTE.parse(body)
        rows = (await self.get(auth, {"session": session}))["entries"]
        if q["keys"]:
            rows = [r for r in rows if r["key"] in set(q["keys"])]
        rows = [r for r in rows if r["value"].strip()]
        if not rows:
            raise NotFound(f"no scratchpad entries to promote in session {session}")
        texts = ["\n".join(f"{r['key']}: {r['value']}" for r in rows)] if q["combine"] else [
            f"{r['key']}: {r['value']}" for r in rows]  # fmt: skip
        bodies = [{"content": t, "category": q["category"], "source": "scratchpad", "session_id": session}
                  for t in texts]  # fmt: skip
        results = await self.deps.memories.store_many(auth, bodies)
        ids = [r.get("id") or r.get("existing_id") for r in results]
        return {"promoted": True, "memory_ids": ids, "count": len(ids)}

    async def purge(self) -> int:
        """Delete every expired entry (the scheduler runs this)."""
        return int(await self.db.awrite(
            lambda conn: conn.execute("DELETE FROM scratch WHERE expires_at <= ?", (now_iso(),)).rowcount))  # fmt: skip
