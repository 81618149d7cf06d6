"""Consolidation: ``POST /consolidate`` merges related memories into one, reversibly.

With ``memory_ids`` the named memories (at least two, all the caller's and visible) become one; without,
clusters are found among the caller's newest ``WINDOW`` embedded memories: pairs with cosine >=
``threshold`` joined by union-find, at most ``MAX_CLUSTER`` memories a cluster. Each cluster becomes
one new memory (source ``engram:consolidate``): its content is the LLM's merge when one is configured,
else the sources' distinct sentences in order; its importance the highest, its tags the union, its
category the most common. In the same transaction the sources are marked ``is_consolidated`` (hidden from
reads and search, never deleted) and linked from the new memory with ``consolidates`` links.

``POST /consolidate/{id}/undo`` reverses it: the sources are visible again, and a memory this module made
moves to the trash. It also undoes a ``/deduplicate`` merge (the keeper stays; the merged come back).
"""

from __future__ import annotations

import json
import logging
import re
from collections import Counter
from functools import partial
from typing import Any

import numpy as np

from ..auth.context import AuthContext
from ..embeddings.manager import EmbeddingManager
from ..errors import Conflict, Invalid, LlmUnavailable, NotFound
from ..llm.client import LlmClient
from ..memories import writes
from ..memories.records import memory_dict
from ..memories.service import MemoryService
from ..model.links import bump_links_changed, upsert_link
from ..model.memories import VISIBLE, owned_memory
from ..storage.database import Database
from ..timeutil import now_iso
from ..validation import INT_MAX, Field, Schema

__all__ = ["CONSOLIDATE", "ConsolidateService", "clusters", "id_list", "merge_text"]

log = logging.getLogger("engram.consolidate")

SOURCE = "engram:consolidate"
WINDOW = 2000
MAX_CLUSTER = 20
MAX_CONTENT = 60_000


def id_list(field: str) -> Any:
    """A ``check`` for float_list fields that carry memory ids: whole numbers, distinct, in order."""

    def check(values: list[float]) -> list[int]:
        out: list[int] = []
        for i, v in enumerate(values):
            whole = isinstance(v, int) or float(v).is_integer()  # float(big int) != big int: test ints as ints
            if not whole or v < 1:
                raise Invalid(f"{field}[{i}]", "must be a positive integer id")
            if int(v) > INT_MAX:  # past SQLite's INTEGER: names no memory
                raise NotFound(f"{field}: no visible memory with id {int(v)}")
            if int(v) not in out:
                out.append(int(v))
        return out

    return check


CONSOLIDATE = Schema(
    Field("memory_ids", "float_list", max_items=100, check=id_list("memory_ids"),
          schema={"type": "array", "items": {"type": "integer", "minimum": 1, "maximum": INT_MAX}, "minItems": 2,
                  "maxItems": 100, "uniqueItems": True},
          help="Memories to merge into one (at least two). Omitted: find clusters automatically."),
    Field("threshold", "float", default=0.88, min=0.5, max=1.0, help="Cosine that joins two memories (auto)."),
    Field("limit", "int", default=20, min=1, max=200, help="Most clusters consolidated (auto)."),
    Field("dry_run", "bool", default=False, help="Report the clusters, change nothing."),
    description="Merge related memories into one consolidated memory; sources hidden, not deleted (undo).",
)  # fmt: skip


def clusters(ids: list[int], vectors: np.ndarray, threshold: float, limit: int) -> list[list[int]]:
    """Groups of ``ids`` whose vectors are pairwise-linked at cosine >= ``threshold`` (union-find)."""
    if len(ids) < 2:
        return []
    sims = vectors @ vectors.T
    parent = list(range(len(ids)))

    def root(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    rows, cols = np.nonzero(np.triu(sims >= threshold, k=1))
    for a, b in zip(rows.tolist(), cols.tolist(), strict=True):
        ra, rb = root(a), root(b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)
    groups: dict[int, list[int]] = {}
    for i in range(len(ids)):
        groups.setdefault(root(i), []).append(ids[i])
    found = [sorted(g)[:MAX_CLUSTER] for g in groups.values() if len(g) > 1]
    return sorted(found, key=lambda g: (-len(g), g[0]))[:limit]


_SENT = re.compile(r"(?<=[.!?])\s+")


def merge_text(contents: list[str]) -> str:
    """The rules merge: the sources' sentences, oldest first, without repeats or sentences another one
    contains (every word of "Sam climbs on Sundays" is in "Sam climbs on Sundays at the gym")."""
    sentences: list[tuple[str, frozenset[str]]] = []
    for content in contents:
        for sentence in _SENT.split(content.strip()):
            words = frozenset(re.findall(r"\w+", sentence.lower()))
            if words:
                sentences.append((sentence.strip(), words))
    kept: list[str] = []
    for i, (sentence, words) in enumerate(sentences):
        covered = any((words < other or (words == other and j < i)) for j, (_, other) in enumerate(sentences) if j != i)
        if not covered:
            kept.append(sentence)
    return " ".join(kept)[:MAX_CONTENT]


_LLM_SYSTEM = (
    "Merge these notes about one user into a single memory that keeps every distinct fact, newest wins on "
    'conflicts. Answer only JSON: {"content": str}'
)


def _sources(conn: Any, user_id: int, ids: list[int]) -> list[Any]:
    marks = ", ".join("?" for _ in ids)
    rows = conn.execute(
        f"SELECT m.* FROM memories m WHERE m.user_id = ? AND m.id IN ({marks}) AND "
        + VISIBLE.replace(":now", "?") + " ORDER BY m.created_at, m.id",
        (user_id, *ids, now_iso()),
    ).fetchall()  # fmt: skip
    if len(rows) != len(ids):
        missing = sorted(set(ids) - {int(r["id"]) for r in rows})
        raise NotFound(f"memory_ids: no visible memory with id {missing[0]}")
    return list(rows)


class ConsolidateService:
    def __init__(self, db: Database, llm: LlmClient, memories: MemoryService, vectors: EmbeddingManager) -> None:
        self.db = db
        self.llm = llm
        self.memories = memories
        self.vectors = vectors

    async def _auto_groups(self, user_id: int, threshold: float, limit: int) -> list[list[int]]:
        fp = self.vectors.fingerprint
        if fp is None:
            return []

        def run(conn: Any) -> tuple[list[int], np.ndarray]:
            rows = conn.execute(
                "SELECT m.id, m.embedding FROM memories m WHERE m.user_id = ? AND m.embedding_model = ? AND "
                + VISIBLE.replace(":now", "?") + " AND m.category NOT IN ('reflection') ORDER BY m.id DESC LIMIT ?",
                (user_id, fp, now_iso(), WINDOW),
            ).fetchall()  # fmt: skip
            vecs = np.array([np.frombuffer(r["embedding"], dtype="<f4") for r in rows], dtype=np.float32)
            return [int(r["id"]) for r in rows], vecs

        ids, vecs = await self.db.aread(run)
        return clusters(ids, vecs, threshold, limit) if ids else []

    async def _content(self, contents: list[str]) -> str:
        llm = self.llm
        if llm.configured and len(contents) > 1:
            notes = "\n".join(f"- {c}" for c in contents)[:24_000]
            try:
                reply = await llm.chat_json(_LLM_SYSTEM, notes)
                if isinstance(reply, dict) and isinstance(reply.get("content"), str) and reply["content"].strip():
                    return str(reply["content"]).strip()[:MAX_CONTENT]
            except LlmUnavailable as exc:
                log.info("consolidation falls back to rules: %s", exc.message)
        return merge_text(contents)

    async def consolidate(self, auth: AuthContext, body: Any) -> dict[str, Any]:
        auth.require("write")
        q = CONSOLIDATE.parse(body)
        explicit = q["memory_ids"] is not None
        if explicit and len(q["memory_ids"]) < 2:
            raise Invalid("memory_ids", "needs at least two distinct memory ids")
        groups = [q["memory_ids"]] if explicit else await self._auto_groups(auth.user_id, q["threshold"], q["limit"])
        rows_by_group: list[list[Any]] = []
        for group in groups:
            rows_by_group.append(await self.db.aread(partial(_sources, user_id=auth.user_id, ids=group)))
        if q["dry_run"] or not groups:
            return {"consolidated": [], "clusters": groups, "count": 0, "dry_run": q["dry_run"]}
        bodies = []
        for rows in rows_by_group:
            tags = sorted({t for r in rows for t in json.loads(r["tags"])})[:50]
            bodies.append({
                "content": await self._content([r["content"] for r in rows]),
                "category": Counter(r["category"] for r in rows).most_common(1)[0][0],
                "importance": max(int(r["importance"]) for r in rows),
                "tags": tags, "source": SOURCE, "is_static": any(r["is_static"] for r in rows),
            })  # fmt: skip

        def mark(conn: Any, results: list[dict[str, Any]]) -> None:
            links = 0
            for result, group in zip(results, groups, strict=True):
                _sources(conn, auth.user_id, group)  # still visible: not consolidated meanwhile
                marks = ", ".join("?" for _ in group)
                conn.execute(f"UPDATE memories SET is_consolidated = 1, updated_at = ? WHERE user_id = ?"
                             f" AND id IN ({marks})", (now_iso(), auth.user_id, *group))  # fmt: skip
                for source_id in group:
                    links += upsert_link(conn, auth.user_id, result["id"], source_id, "consolidates", 1.0)
            bump_links_changed(conn, auth.user_id, links)

        results = await self.memories.store_many(auth, bodies, dedup=False, in_tx=mark)
        made = [
            {"id": r["id"], "source_ids": g, "content": b["content"]}
            for r, g, b in zip(results, groups, bodies, strict=True)
        ]
        out: dict[str, Any] = {"consolidated": made, "clusters": groups, "count": len(made), "dry_run": False}
        if explicit:  # the reference servers answer the merged memory row
            row = await self.db.aread(lambda c: memory_dict(owned_memory(c, auth.user_id, made[0]["id"])))
            out.update({**row, "source_ids": groups[0]})
        return out

    async def undo(self, auth: AuthContext, memory_id: int) -> dict[str, Any]:
        """Reverse a consolidation into ``memory_id`` (see the module docstring)."""
        auth.require("write")

        def tx(conn: Any) -> dict[str, Any]:
            row = owned_memory(conn, auth.user_id, memory_id)
            restored = [int(r[0]) for r in conn.execute(
                "SELECT l.target_id FROM memory_links l JOIN memories t ON t.id = l.target_id WHERE l.source_id = ?"
                " AND l.user_id = ? AND l.link_type = 'consolidates' AND t.is_consolidated = 1 AND t.user_id = ?",
                (memory_id, auth.user_id, auth.user_id))]  # fmt: skip
            if not restored:
                raise Conflict(f"nothing consolidated into memory {memory_id} is hidden")
            marks = ", ".join("?" for _ in restored)
            conn.execute(f"UPDATE memories SET is_consolidated = 0, updated_at = ? WHERE user_id = ?"
                         f" AND id IN ({marks})", (now_iso(), auth.user_id, *restored))  # fmt: skip
            trashed = row["source"] == SOURCE and not row["is_deleted"]
            if trashed:
                writes.move_to_trash(conn, auth, memory_id)
            return {"undone": True, "id": memory_id, "restored": restored, "trashed": trashed}

        return await self.db.awrite(tx)
