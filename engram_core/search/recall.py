"""Layered recall and token-budgeted context, built on the search pipeline.

* POST /recall: four layers of at most ``limit`` memories each: ``static`` (core memories, most important
  first), ``important`` (importance >= ``min_importance``, not static), ``semantic`` (the search results
  for ``query``) and ``recent`` (newest first). ``memories`` is their union without repeats, in that order.
* POST /context: candidates of four kinds - static, relevant (search results: 5 for the ``precision``
  strategy, 12 for ``balanced``, 30 for ``breadth``; plus, when asked, linked memories and the memories
  behind preference signals), with ``include_episodes`` the episodes those relevant memories belong to
  (at most 5, scored by the summed scores of their relevant memories; title, dates and summary), and
  recent (the 20 newest) - handed to
  :func:`~engram_core.search.context.assemble_context` with the embedder's token counter (the
  model-free estimate without a model). The budget is never exceeded, whatever the counter.
"""

from __future__ import annotations

import time
from dataclasses import replace
from typing import Any

from ..auth.context import AuthContext
from .context import Candidate, assemble_context, estimate_tokens
from .facets import list_scope
from .filters import Scope, search_scope
from .schemas import CONTEXT, RECALL
from .service import SearchService

__all__ = ["RecallService"]

_RELEVANT = {"precision": 5, "balanced": 12, "breadth": 30}
_STATIC_MAX = 30
_RECENT_MAX = 20


_EPISODES_MAX = 5


def _episodes_of(conn: Any, user_id: int, memory_ids: list[int]) -> list[Any]:
    """(episode row, memory_id) pairs: the caller's episodes holding any of ``memory_ids``."""
    if not memory_ids:
        return []
    marks = ",".join("?" * len(memory_ids))
    return list(conn.execute(
        "SELECT e.id, e.title, e.summary, e.status, e.started_at, e.ended_at, em.memory_id"
        " FROM episode_memories em JOIN episodes e ON e.id = em.episode_id"
        f" WHERE em.user_id = ? AND e.user_id = ? AND em.memory_id IN ({marks})",
        (user_id, user_id, *memory_ids),
    ))  # fmt: skip


def _episode_text(row: Any) -> str:
    when = (row["started_at"] or "")[:10]
    if row["ended_at"]:
        when += f" to {row['ended_at'][:10]}"
    summary = (row["summary"] or "").strip()
    return f"{row['title']} ({when}): {summary}" if summary else f"{row['title']} ({when}, {row['status']})"


def _narrow(scope: Scope, sql: str) -> Scope:
    return replace(scope, where=scope.where + sql)


class RecallService:
    """POST /recall and POST /context for one caller at a time."""

    def __init__(self, search: SearchService) -> None:
        self.search = search
        self.db = search.db

    async def _layers(
        self, scope: Scope, limits: tuple[int, int, int], min_importance: int
    ) -> tuple[list[Any], list[Any], list[Any]]:
        """(static, important, recent) memories of ``scope``, at most ``limits`` of each."""
        static = _narrow(scope, " AND m.is_static = 1")
        important = _narrow(scope, f" AND m.is_static = 0 AND m.importance >= {int(min_importance)}")

        def run(conn: Any) -> tuple[list[Any], list[Any], list[Any]]:
            n_static, n_important, n_recent = limits
            by_importance = (
                sorted(list_scope(conn, static, 200), key=lambda m: -m["importance"])[:n_static] if n_static else []
            )
            top = (
                sorted(list_scope(conn, important, 200), key=lambda m: -m["importance"])[:n_important]
                if n_important
                else []
            )
            return by_importance, top, list_scope(conn, scope, n_recent) if n_recent else []

        return await self.db.aread(run)

    async def recall(self, auth: AuthContext, body: Any) -> dict[str, Any]:
        """Static + important + semantic + recent layers."""
        auth.require("read")
        q = RECALL.parse(body)
        scope = search_scope(auth.user_id, q)
        static, important, recent = await self._layers(scope, (q["limit"],) * 3, q["min_importance"])
        semantic: list[dict[str, Any]] = []
        degraded: dict[str, Any] = {}  # the embedding endpoint is down: the semantic layer ran without vectors
        query = (q.get("query") or "").strip()
        if query:
            outcome = await self.search.run(scope, {**q, "query": query, "limit": q["limit"]})
            semantic = outcome.results
            degraded = {k: v for k, v in outcome.response().items() if k == "degraded"}
        seen: set[int] = set()
        memories = []
        for layer, items in (
            ("static", static),
            ("important", important),
            ("semantic", semantic),
            ("recent", recent),
        ):
            for m in items:
                if m["id"] not in seen:
                    seen.add(m["id"])
                    memories.append({**m, "layer": layer})
        self.search.recalled(auth.user_id, seen)
        return {"static": static, "important": important, "semantic": semantic, "recent": recent,
                "memories": memories, "count": len(memories), **degraded}  # fmt: skip

    async def context(self, auth: AuthContext, body: Any) -> dict[str, Any]:
        """Assemble a context of at most ``max_tokens`` tokens for ``query``."""
        auth.require("read")
        q = CONTEXT.parse(body)
        started = time.perf_counter()
        scope = search_scope(auth.user_id, q)
        search_q = {"query": q["query"], "limit": _RELEVANT[q["strategy"]],
                    "include_links": q["include_linked"],
                    "question_type": "preference" if q["include_preferences"] else None}  # fmt: skip
        outcome = await self.search.run(scope, search_q)
        t_search = time.perf_counter()
        static, _, recent = await self._layers(
            scope,
            (_STATIC_MAX if q["include_static"] else 0, 0, _RECENT_MAX if q["include_recent"] else 0),
            10,
        )
        candidates = [
            Candidate(m["id"], m["content"], "static", float(m["importance"]), m["category"], m["source"])
            for m in static
        ]
        for r in outcome.results:
            candidates.append(Candidate(r["id"], r["content"], "relevant", r["score"], r["category"], r["source"]))
            for link in r.get("linked", []) if q["include_linked"] else []:
                candidates.append(Candidate(link["id"], link["content"], "relevant", r["score"] * 0.5))
        if q["include_episodes"]:
            scores = {int(r["id"]): float(r["score"]) for r in outcome.results}
            rows = await self.db.aread(lambda conn: _episodes_of(conn, auth.user_id, list(scores)))
            ranked: dict[int, float] = {}
            for row in rows:
                ranked[row["id"]] = ranked.get(row["id"], 0.0) + scores[row["memory_id"]]
            by_id = {row["id"]: row for row in rows}
            for eid, score in sorted(ranked.items(), key=lambda kv: -kv[1])[:_EPISODES_MAX]:
                # an episode's id is ("episode", id): a memory and an episode may share a number
                candidates.append(Candidate(("episode", eid), _episode_text(by_id[eid]), "episode", score, "episode"))
        if q["include_recent"]:
            candidates += [Candidate(m["id"], m["content"], "recent", 0.0, m["category"], m["source"])
                           for m in recent[:_RECENT_MAX]]  # fmt: skip
        facts = getattr(self.search.host, "facts", None)
        if q["include_structured_facts"] and facts is not None:
            for f in await facts.context_facts(auth.user_id, q["query"]):
                line = f"{f['subject']} {f['predicate'].replace('_', ' ')}: {f['object']} (since {f['valid_at'][:10]})"
                candidates.append(Candidate(f"fact:{f['id']}", line, "static", 9.5, "fact", "facts"))
        embedder = getattr(self.search.host, "embedder", None)
        counter = embedder.count_tokens if embedder is not None else estimate_tokens
        assembled = assemble_context(candidates, q["max_tokens"], counter, mode=q["mode"])
        memory_ids = (b.id for b in assembled.blocks if b.kind != "episode" and isinstance(b.id, int))
        self.search.recalled(auth.user_id, memory_ids)
        return {
            "context": assembled.context,
            "blocks": [
                {
                    "id": b.id[1] if b.kind == "episode" else b.id,  # type: ignore[index]
                    "kind": b.kind,
                    "category": b.category,
                    "source": b.source,
                    "score": round(b.score, 6),
                    "tokens": b.tokens,
                }
                for b in assembled.blocks
            ],  # fmt: skip
            "token_estimate": assembled.token_estimate,
            "token_budget": assembled.token_budget,
            "utilization": assembled.utilization,
            "breakdown": assembled.breakdown,
            "mode": q["mode"],
            "strategy": q["strategy"],
            "tokenizer": "model" if embedder is not None else "estimate",
            "duplicates": assembled.duplicates,
            "timing": {
                "search_ms": round((t_search - started) * 1000, 3),
                **outcome.timings,
                "total_ms": round((time.perf_counter() - started) * 1000, 3),
            },  # fmt: skip
            **{k: v for k, v in outcome.response().items() if k == "degraded"},  # embedding endpoint down
        }
