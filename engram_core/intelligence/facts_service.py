"""FactsService: the routes over structured facts, contradictions, decomposition and affect, for one caller.

Reads: ``facts`` (GET /facts: current facts, ``as_of`` a time, or the whole history), ``contradictions``
(GET /contradictions, GET /contradictions/{id}), ``valence_of``; ``profile_facts`` and ``context_facts`` feed
/profile and /context. Writes: ``scan`` (POST /contradictions: understand every visible memory of the
caller again, which finds what the store-time job missed or what predates it), ``decompose``
(POST /intelligence/decompose/{id}) and ``sweep`` (POST /admin/decompose-sweep: a resumable job).
"""

from __future__ import annotations

from typing import Any

from ..auth.context import AuthContext
from ..jobs.queue import JobQueue
from ..model.memories import active, owned_memory
from ..storage.database import Database
from ..timeutil import now_iso
from .affect import score
from .decompose import children_of
from .growth import observations
from .schemas import CONTRADICTIONS, FACTS, GROWTH, SCAN, VALENCE
from .statements import content_tokens
from .timeline import fact_dict
from .understanding import Understanding

__all__ = ["FactsService"]

# A fact's memory must be visible now (not trashed or forgotten); "current" also means its latest version.
_VISIBLE_FACT = "m.user_id = f.user_id AND m.is_deleted = 0 AND m.is_forgotten = 0 AND m.is_consolidated = 0"


class FactsService:
    """Facts, contradictions, decomposition and affect for the routes."""

    def __init__(self, db: Database, understanding: Understanding, jobs: JobQueue) -> None:
        self.db = db
        self.understanding = understanding
        self.jobs = jobs

    # -- facts ----------------------------------------------------------------------------------------
    async def facts(self, auth: AuthContext, query: dict[str, Any]) -> dict[str, Any]:
        """GET /facts: the caller's facts, filtered; current ones unless ``as_of`` or ``history``."""
        auth.require("read")
        q = FACTS.parse(query)

        def run(conn: Any) -> dict[str, Any]:
            sql = (
                f"SELECT f.* FROM facts f JOIN memories m ON m.id = f.memory_id WHERE f.user_id = ? AND {_VISIBLE_FACT}"
            )
            args: list[Any] = [auth.user_id]
            if q.get("subject"):
                sql += " AND f.subject = ?"
                args.append(q["subject"].lower())
            if q.get("predicate"):
                predicate = q["predicate"].lower()
                if predicate == "dislikes":
                    sql += " AND f.predicate = 'likes' AND f.polarity = -1"
                else:
                    sql += " AND f.predicate = ?"
                    args.append(predicate)
            if q.get("memory_id") is not None:
                sql += " AND f.memory_id = ?"
                args.append(q["memory_id"])
            if q.get("as_of"):
                sql += " AND f.valid_at <= ? AND (f.invalid_at IS NULL OR f.invalid_at > ?)"
                args += [q["as_of"], q["as_of"]]
            elif not q["history"] and q.get("memory_id") is None:  # one memory's facts: all of them
                sql += " AND f.invalid_at IS NULL AND m.is_latest = 1"
            sql += " ORDER BY f.valid_at DESC, f.id DESC LIMIT ? OFFSET ?"
            args += [q["limit"], q["offset"]]
            return {"facts": [fact_dict(r) for r in conn.execute(sql, args)], "as_of": q.get("as_of")}

        result = await self.db.aread(run)
        result["count"] = len(result["facts"])
        return result

    async def growth(self, auth: AuthContext, query: dict[str, Any]) -> dict[str, Any]:
        """GET /growth/observations: the caller's facts that changed over time, newest first."""
        auth.require("read")
        q = GROWTH.parse(query)
        found = await self.db.aread(lambda conn: observations(conn, auth.user_id, q))
        return {"observations": found, "count": len(found)}

    async def profile_facts(self, user_id: int) -> dict[str, Any]:
        """The current facts about the user, predicate -> object (a list for many-valued predicates)."""
        rows = await self.db.aread(
            lambda conn: conn.execute(
                f"SELECT f.* FROM facts f JOIN memories m ON m.id = f.memory_id WHERE f.user_id = ?"
                f" AND f.subject = 'user' AND f.invalid_at IS NULL AND m.is_latest = 1 AND {_VISIBLE_FACT}"
                " ORDER BY f.valid_at, f.id",
                (user_id,),
            ).fetchall()
        )
        out: dict[str, Any] = {}
        for r in rows:
            d = fact_dict(r)
            if d["predicate"] in {"likes", "dislikes", "prefers", "owns"} or d["polarity"] < 0:
                name = d["predicate"] if d["polarity"] > 0 or d["predicate"] == "dislikes" else f"not_{d['predicate']}"
                out.setdefault(name, [])
                if d["object"] not in out[name]:
                    out[name].append(d["object"])
            else:
                out[d["predicate"]] = d["object"]  # the latest valid one wins
        return out

    async def context_facts(self, user_id: int, query: str, limit: int = 20) -> list[dict[str, Any]]:
        """Current facts for a /context: those sharing a word with ``query`` first, then the newest."""
        words = content_tokens(query)
        rows = await self.db.aread(
            lambda conn: conn.execute(
                f"SELECT f.* FROM facts f JOIN memories m ON m.id = f.memory_id WHERE f.user_id = ?"
                f" AND f.invalid_at IS NULL AND m.is_latest = 1 AND {_VISIBLE_FACT} ORDER BY f.valid_at DESC LIMIT 500",
                (user_id,),
            ).fetchall()
        )
        facts = [fact_dict(r) for r in rows]

        def overlap(d: dict[str, Any]) -> int:
            text = f"{d['subject']} {d['predicate'].replace('_', ' ')} {d['object']}"
            return len(words & content_tokens(text))

        return sorted(facts, key=lambda d: -overlap(d))[:limit]

    # -- contradictions -------------------------------------------------------------------------------
    async def contradictions(self, auth: AuthContext, query: dict[str, Any]) -> dict[str, Any]:
        """GET /contradictions: the caller's contradictions, newest first."""
        auth.require("read")
        q = CONTRADICTIONS.parse(query)
        return await self.db.aread(lambda conn: _contradictions(conn, auth.user_id, None, q["limit"], q["offset"]))

    async def contradictions_of(self, auth: AuthContext, memory_id: int) -> dict[str, Any]:
        """GET /contradictions/{id}: the contradictions one memory takes part in."""
        auth.require("read")

        def run(conn: Any) -> dict[str, Any]:
            owned_memory(conn, auth.user_id, memory_id)
            return _contradictions(conn, auth.user_id, memory_id, 1000, 0)

        return await self.db.aread(run)

    async def scan(self, auth: AuthContext, body: Any) -> dict[str, Any]:
        """POST /contradictions: understand the caller's visible memories again (oldest first), then list."""
        auth.require("write")
        q = SCAN.parse(body)
        ids = await self.db.aread(
            lambda conn: [
                int(r[0])
                for r in conn.execute(
                    f"SELECT id FROM memories WHERE user_id = ? AND {active('')} AND is_fact = 0"
                    " ORDER BY created_at DESC, id DESC LIMIT ?",
                    (auth.user_id, q["limit"]),
                )
            ]
        )
        for memory_id in reversed(ids):
            await self.understanding.process(auth.user_id, memory_id, decompose_it=False)
        found = await self.db.aread(lambda conn: _contradictions(conn, auth.user_id, None, 1000, 0))
        return {**found, "scanned": len(ids)}

    # -- decomposition --------------------------------------------------------------------------------
    async def decompose(self, auth: AuthContext, memory_id: int) -> dict[str, Any]:
        """POST /intelligence/decompose/{id}: decompose now (or return the facts it already has)."""
        auth.require("write")
        await self.db.aread(lambda conn: owned_memory(conn, auth.user_id, memory_id))
        result = await self.understanding.process(auth.user_id, memory_id)
        child_ids = await self.db.aread(lambda conn: [int(r["id"]) for r in children_of(conn, auth.user_id, memory_id)])
        return {"child_ids": child_ids, "memory_id": memory_id, "facts": result.get("facts", 0)}

    async def sweep(self, auth: AuthContext) -> dict[str, Any]:
        """POST /admin/decompose-sweep: queue the resumable sweep job; returns it."""
        auth.require_admin()
        job_id = await self.understanding.start_sweep(auth.user_id)
        self.jobs.wake()
        return await self.jobs.get(job_id, None)

    # -- affect ---------------------------------------------------------------------------------------
    async def valence_score(self, auth: AuthContext, body: Any) -> dict[str, Any]:
        """POST /intelligence/valence/score: the affect of a text (nothing stored)."""
        auth.require("read")
        return score(VALENCE.parse(body)["text"]).as_dict()

    async def valence_of(self, auth: AuthContext, memory_id: int) -> dict[str, Any]:
        """GET /intelligence/valence/{id}: a memory's stored valence and arousal (null until scored)."""
        auth.require("read")
        row = await self.db.aread(lambda conn: owned_memory(conn, auth.user_id, memory_id))
        return {"id": memory_id, "valence": row["valence"], "arousal": row["arousal"]}


def _contradictions(conn: Any, user_id: int, memory_id: int | None, limit: int, offset: int) -> dict[str, Any]:
    sql = (
        "SELECT c.*, a.content AS content_a, b.content AS content_b FROM contradictions c"
        " JOIN memories a ON a.id = c.memory_a JOIN memories b ON b.id = c.memory_b"
        " WHERE c.user_id = ? AND a.user_id = c.user_id AND b.user_id = c.user_id"
        " AND a.is_deleted = 0 AND b.is_deleted = 0"
    )
    args: list[Any] = [user_id]
    if memory_id is not None:
        sql += " AND (c.memory_a = ? OR c.memory_b = ?)"
        args += [memory_id, memory_id]
    sql += " ORDER BY c.id DESC LIMIT ? OFFSET ?"
    rows = conn.execute(sql, (*args, limit, offset)).fetchall()
    items = [
        {
            "id": r["id"],
            "memory_a": r["memory_a"],
            "memory_b": r["memory_b"],
            "newer_id": r["memory_a"],
            "older_id": r["memory_b"],
            "content_a": r["content_a"][:500],
            "content_b": r["content_b"][:500],
            "kind": r["kind"],
            "confidence": r["confidence"],
            "description": r["description"],
            "supersedes": r["fact_key"] is not None or r["kind"] == "number",
            "created_at": r["created_at"],
        }
        for r in rows
    ]
    return {"contradictions": items, "count": len(items), "as_of": now_iso()}
