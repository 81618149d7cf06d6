"""Reflection: ``POST /reflect`` (= ``/reflections``) writes a reflection memory linked to its sources.

Either the caller gives the reflection (``content`` + ``source_memory_ids``, as the reference servers
take it), or Engram writes one about a ``topic`` (the memories a search for it finds) or a ``period``
(the memories stored in the last day, week or month, most important first): the LLM's summary when one
is configured, else a rules summary (how many memories of which categories, the recurring terms, the
most important statements). The reflection is stored as a memory of category ``reflection`` with a
``derived_from`` link to every source. ``GET /reflections`` lists them with their sources. The growth
reflection (``POST /growth/reflect``) is ``growth_reflect``.
"""

from __future__ import annotations

import logging
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

from ..auth.context import AuthContext
from ..errors import LlmUnavailable, NotFound
from ..llm.client import LlmClient
from ..memories.service import MemoryService
from ..model.links import bump_links_changed, upsert_link
from ..model.memories import VISIBLE, owned_memory
from ..search.service import SearchService
from ..storage.database import Database
from ..timeutil import format_ts, now_iso
from ..validation import INT_MAX, Field, Schema
from .consolidate import id_list
from .terms import key_terms

__all__ = ["REFLECT", "REFLECTIONS", "ReflectService", "rules_reflection"]

log = logging.getLogger("engram.reflect")
PERIODS = {"day": 1, "week": 7, "month": 30}

REFLECT = Schema(
    Field("content", "text", max_len=60_000, help="The reflection itself; omitted: Engram writes one."),
    Field("source_memory_ids", "float_list", max_items=200, check=id_list("source_memory_ids"),
          schema={"type": "array", "items": {"type": "integer", "minimum": 1, "maximum": INT_MAX}, "minItems": 1,
                  "maxItems": 200},
          help="Memories the reflection draws on."),
    Field("topic", "str", max_len=1000, help="Reflect on the memories a search for this finds."),
    Field("period", "str", choices=tuple(PERIODS), help="Reflect on the memories of the last day, week or month."),
    Field("reflection_type", "str", default="general", max_len=100),
    Field("confidence", "float", default=1.0, min=0.0, max=1.0),
    Field("limit", "int", default=30, min=2, max=100, help="Most source memories read."),
    description="Write (or have Engram write) a reflection memory linked to its sources.",
)  # fmt: skip
REFLECTIONS = Schema(Field("limit", "int", default=20, min=1, max=200))


def rules_reflection(label: str, rows: list[Any]) -> str:
    """A reflection without an LLM: counts by category, recurring terms, the most important statements."""
    cats = Counter(r["category"] for r in rows).most_common(4)
    terms = Counter(t for r in rows for t in key_terms(r["content"]) if not t.startswith(("path:", "-")))
    common = [t for t, n in terms.most_common(8) if n > 1][:6]
    top = sorted(rows, key=lambda r: (-int(r["importance"]), r["id"]))[:3]
    parts = [f"Reflection on {label}: {len(rows)} memories ({', '.join(f'{n} {c}' for c, n in cats)})."]
    if common:
        parts.append(f"Recurring themes: {', '.join(common)}.")
    parts.append("Most important: " + " | ".join(r["content"][:200] for r in top))
    return " ".join(parts)


_LLM_SYSTEM = (
    "You reflect on a user's memories: patterns, what matters to them, open questions, changes over time. "
    'Write 2-5 sentences. Answer only JSON: {"reflection": str}'
)


class ReflectService:
    def __init__(self, db: Database, llm: LlmClient, memories: MemoryService, search: SearchService) -> None:
        self.db = db
        self.llm = llm
        self.memories = memories
        self.search = search

    async def _gather(self, auth: AuthContext, q: dict[str, Any]) -> tuple[str, list[Any]]:
        limit = q["limit"]
        if q["source_memory_ids"]:
            ids, label = q["source_memory_ids"], "the chosen memories"
        elif q["topic"]:
            found = await self.search.search(auth, {"query": q["topic"], "limit": limit})
            ids, label = [r["id"] for r in found["results"] if r.get("category") != "reflection"], f"'{q['topic']}'"
        else:
            period = q["period"] or "week"
            since = format_ts(datetime.now(UTC) - timedelta(days=PERIODS[period]))

            def recent(conn: Any) -> list[int]:
                return [int(r[0]) for r in conn.execute(
                    "SELECT m.id FROM memories m WHERE m.user_id = ? AND m.created_at >= ?"
                    " AND m.category != 'reflection' AND " + VISIBLE.replace(":now", "?")
                    + " ORDER BY m.importance DESC, m.id DESC LIMIT ?",
                    (auth.user_id, since, now_iso(), limit))]  # fmt: skip

            ids, label = await self.db.aread(recent), f"the last {period}"
        if not ids:
            raise NotFound(f"no memories to reflect on for {label}")

        def rows(conn: Any) -> list[Any]:
            return [owned_memory(conn, auth.user_id, i) for i in ids]

        return label, await self.db.aread(rows)

    async def _write(self, label: str, rows: list[Any]) -> str:
        llm = self.llm
        if llm.configured:
            notes = "\n".join(f"- [{r['created_at'][:10]}] {r['content'][:500]}" for r in rows)
            try:
                reply = await llm.chat_json(_LLM_SYSTEM, f"Topic: {label}\n{notes}"[:24_000])
                if isinstance(reply, dict) and isinstance(reply.get("reflection"), str) and reply["reflection"].strip():
                    return str(reply["reflection"]).strip()[:60_000]
            except LlmUnavailable as exc:
                log.info("reflection falls back to rules: %s", exc.message)
        return rules_reflection(label, rows)

    async def reflect(self, auth: AuthContext, body: Any) -> dict[str, Any]:
        auth.require("write")
        q = REFLECT.parse(body)
        if q["content"]:
            sources = q["source_memory_ids"] or []
            await self.db.aread(lambda c: [owned_memory(c, auth.user_id, i) for i in sources])
            content, label = q["content"].strip(), "given"
        else:
            label, rows = await self._gather(auth, q)
            sources, content = [int(r["id"]) for r in rows], await self._write(label, rows)
        tags = ["reflection", q["reflection_type"].strip().lower()[:100] or "general"]

        def link(conn: Any, results: list[dict[str, Any]]) -> None:
            for i in sources:
                owned_memory(conn, auth.user_id, i)
            new = results[0]["id"]
            made = sum(upsert_link(conn, auth.user_id, new, i, "derived_from", q["confidence"]) for i in sources)
            bump_links_changed(conn, auth.user_id, made)

        body_ = {"content": content, "category": "reflection", "source": "engram:reflect", "tags": tags,
                 "importance": 6}  # fmt: skip
        result = (await self.memories.store_many(auth, [body_], dedup=False, in_tx=link))[0]
        return {"id": result["id"], "content": content, "reflection_type": tags[1], "source_memory_ids": sources,
                "confidence": q["confidence"], "user_id": auth.user_id, "created_at": result["created_at"],
                "about": label}  # fmt: skip

    async def list(self, auth: AuthContext, query: Any) -> dict[str, Any]:
        auth.require("read")
        limit = REFLECTIONS.parse(query)["limit"]

        def run(conn: Any) -> list[dict[str, Any]]:
            rows = conn.execute(
                "SELECT m.id, m.content, m.tags, m.created_at FROM memories m WHERE m.user_id = ?"
                " AND m.category = 'reflection' AND " + VISIBLE.replace(":now", "?") + " ORDER BY m.id DESC LIMIT ?",
                (auth.user_id, now_iso(), limit),
            ).fetchall()  # fmt: skip
            out = []
            for r in rows:
                sources = [int(x[0]) for x in conn.execute(
                    "SELECT target_id FROM memory_links WHERE source_id = ? AND user_id = ?"
                    " AND link_type = 'derived_from' ORDER BY target_id", (r["id"], auth.user_id))]  # fmt: skip
                out.append({"id": r["id"], "content": r["content"], "source_memory_ids": sources,
                            "created_at": r["created_at"]})  # fmt: skip
            return out

        reflections = await self.db.aread(run)
        return {"reflections": reflections, "count": len(reflections)}
