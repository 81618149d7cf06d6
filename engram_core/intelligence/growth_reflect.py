"""``POST /growth/reflect``: the growth observations (``GET /growth/observations``) written down as one
reflection memory of type ``growth``, linked ``derived_from`` to the memories of each change.

With an LLM configured, the model writes the reflection from the dated observations; when none is
configured, or the call still fails after its retries (``LlmClient``), or its answer is not the expected
JSON, the rules write it ("Growth over time: You moved from Paris to Lyon (2024-06-01). ..."). ``tier``
says which wrote it.

The same observations are not written down twice (``stored: false`` with the existing id, and no LLM
call): every growth reflection is tagged ``growth:<key>``, ``key`` a hash of the rules' text for those
observations, whoever wrote the words; the check is made again in the store's transaction, so two requests
racing through a slow LLM call store one reflection. No change: nothing stored, ``id`` null.
"""

from __future__ import annotations

import hashlib
import logging
from typing import Any

from ..auth.context import AuthContext
from ..errors import LlmUnavailable
from ..llm.client import LlmClient
from ..memories.service import MemoryService
from ..model.links import bump_links_changed, upsert_link
from ..model.memories import VISIBLE
from ..storage.database import Database
from ..timeutil import now_iso
from ..validation import Field, Schema
from .growth import observations

__all__ = ["GROWTH_REFLECT", "GrowthReflector", "rules_growth"]

log = logging.getLogger("engram.reflect")

GROWTH_REFLECT = Schema(
    Field("since", "timestamp", help="Only the changes since then (default: all of them)."),
    Field("subject", "str", max_len=200, help="'user' for the first person, else a lower-cased name."),
    Field("predicate", "str", max_len=200, help="lives_in, works_at, works_as ..."),
    Field("limit", "int", default=20, min=1, max=200, help="Most observations the reflection holds."),
    description="Write a growth reflection: the facts that changed over time, as one reflection memory "
    "(by the LLM when one is configured, else by the rules).",
)

_SYSTEM = (
    "You write a short reflection on how a person changed over time, from dated observations of facts about "
    "them that changed (where they live, their work, relationships, preferences). Address the user as 'you'. "
    'Use only what the observations say. Write 1-4 sentences. Answer only JSON: {"reflection": str}'
)


class _Written(Exception):
    """Raised inside the store's transaction (rolling it back) when the same observations were written first."""

    def __init__(self, row: Any) -> None:
        super().__init__("already written")
        self.row = row


def rules_growth(label: str, found: list[dict[str, Any]]) -> str:
    """The rules' reflection: each change with its date, oldest first (``found`` is newest first)."""
    lines = [f"{o['text']} ({str(o['changed_at'])[:10]})." for o in reversed(found)]
    return f"Growth {label}: " + " ".join(lines)


def _prompt(label: str, found: list[dict[str, Any]]) -> str:
    lines = [f"- {str(o['changed_at'])[:10]}: {o['text']}." for o in reversed(found)]
    return (f"Period: {label}\nObservations, oldest first:\n" + "\n".join(lines))[:24_000]


class GrowthReflector:
    def __init__(self, db: Database, llm: LlmClient, memories: MemoryService) -> None:
        self.db = db
        self.llm = llm
        self.memories = memories

    async def _write(self, label: str, found: list[dict[str, Any]], rules: str) -> tuple[str, str]:
        """``(content, tier)``: the LLM's reflection when it answers well, else the rules'."""
        if not self.llm.configured:
            return rules, "rules"
        try:
            reply = await self.llm.chat_json(_SYSTEM, _prompt(label, found))
        except LlmUnavailable as exc:
            log.info("growth reflection falls back to rules: %s", exc.message)
            return rules, "rules"
        text = reply.get("reflection") if isinstance(reply, dict) else None
        if not isinstance(text, str) or not text.strip():
            log.info("growth reflection falls back to rules: the LLM answer has no reflection")
            return rules, "rules"
        return text.strip()[:60_000], "llm"

    async def reflect(self, auth: AuthContext, body: Any) -> dict[str, Any]:
        auth.require("write")
        q = {**GROWTH_REFLECT.parse(body), "offset": 0}
        found = await self.db.aread(lambda conn: observations(conn, auth.user_id, q))
        out: dict[str, Any] = {"observations": found, "count": len(found), "reflection_type": "growth",
                               "since": q.get("since"), "user_id": auth.user_id}  # fmt: skip
        if not found:
            return {**out, "id": None, "stored": False, "content": None, "source_memory_ids": [], "tier": None}
        label = f"since {q['since'][:10]}" if q.get("since") else "over time"
        rules = rules_growth(label, found)
        tag = "growth:" + hashlib.sha256(rules.encode()).hexdigest()[:16]
        sources = sorted({int(o[k]) for o in found for k in ("from_memory_id", "to_memory_id")})
        out["source_memory_ids"] = sources

        def same(conn: Any, new_id: int = 0) -> Any:  # by the rules' text too: reflections from before the tag
            return conn.execute(
                "SELECT m.id, m.content, m.created_at FROM memories m WHERE m.user_id = ? AND m.id != ?"
                " AND m.category = 'reflection' AND (m.content = ? OR EXISTS (SELECT 1 FROM json_each(m.tags) t"
                " WHERE t.value = ?)) AND " + VISIBLE.replace(":now", "?") + " ORDER BY m.id DESC LIMIT 1",
                (auth.user_id, new_id, rules, tag, now_iso()),
            ).fetchone()  # fmt: skip

        def written(row: Any) -> dict[str, Any]:
            return {**out, "id": row["id"], "stored": False, "content": row["content"], "tier": None,
                    "created_at": row["created_at"]}  # fmt: skip

        existing = await self.db.aread(same)
        if existing is not None:
            return written(existing)
        content, tier = await self._write(label, found, rules)

        def link(conn: Any, results: list[dict[str, Any]]) -> None:
            # A request for the same observations may have stored while the LLM was writing: keep only its.
            if (first := same(conn, results[0]["id"])) is not None:
                raise _Written(first)
            made = sum(upsert_link(conn, auth.user_id, results[0]["id"], i, "derived_from", 1.0) for i in sources)
            bump_links_changed(conn, auth.user_id, made)

        body_ = {"content": content, "category": "reflection", "source": "engram:growth", "importance": 6,
                 "tags": ["reflection", "growth", tag]}  # fmt: skip
        try:
            result = (await self.memories.store_many(auth, [body_], dedup=False, in_tx=link))[0]
        except _Written as race:
            return written(race.row)
        return {**out, "id": result["id"], "stored": True, "content": content, "confidence": 1.0, "tier": tier,
                "created_at": result["created_at"]}  # fmt: skip
