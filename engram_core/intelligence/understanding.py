"""Understanding a stored memory: decomposition, structured facts, contradictions and affect, off the
request path.

Every store and update enqueues the durable ``understand`` job inside its transaction
(:func:`enqueue_understand`); the job runs :meth:`Understanding.process`:

1. read the memory (gone, trashed or a fact memory itself: nothing to do);
2. score valence/arousal (:mod:`.affect`) unless the store transaction did (:func:`.affect.score_in_tx`)
   and split the text into statements (:mod:`.statements`);
3. when it holds two or more (asked of the LLM first when one is configured, the rules otherwise or when
   it fails), embed them (outside any transaction) and store them as fact memories
   (:mod:`.decompose`);
4. in one write transaction: the affect columns, the fact memories, the structured facts of every
   statement (attributed to its fact memory, else to the memory itself; :mod:`.facts`), the rebuilt
   timelines they touch (:mod:`.timeline`: ``invalid_at``, ``contradicts`` + ``supersedes`` links), the
   text contradictions with the nearest memories by BM25 (:func:`.contradictions.text_conflict`), and the
   ``caused_by`` links it states or is the cause of (:mod:`.causal`);
5. the change feed tells the search index and caches what changed (fact rows and contradictions are
   recorded on it too).

An ingest batch (a ``store_many`` transaction) queues one job for all its memories
(:meth:`Understanding.process_many`): their fact memories are embedded in one call, then each memory is
written in its own transaction as above.

Jobs of one user run one at a time, in queue order, so facts stored in order are walked in order (the
timeline is recomputed from all its facts anyway). ``process`` is idempotent: the sweep
(``decompose_sweep`` job, resumable by its cursor) and ``POST /intelligence/decompose/{id}`` reuse it.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ..embeddings.manager import EmbeddingManager
from ..jobs.queue import enqueue
from ..memories.written import WrittenMemory
from ..search.channels.fts import fts_search
from ..search.filters import search_scope
from ..settings import Settings
from ..storage.database import Database
from ..timeutil import now_iso, to_datetime
from . import decompose, timeline
from .affect import score
from .causal import causal_links, caused_by_others, relations, store_links
from .contradictions import text_conflict
from .facts import extract
from .statements import statements

__all__ = ["SWEEP_JOB", "UNDERSTAND_JOB", "Understanding", "enqueue_understand", "enqueue_understand_many"]

log = logging.getLogger("engram.intelligence")
UNDERSTAND_JOB = "understand"
SWEEP_JOB = "decompose_sweep"
SWEEP_BATCH = 25
_CANDIDATES = 12  # nearest memories (BM25) checked for a text contradiction


@dataclass
class _Plan:
    """One memory's understanding worked out outside the write transaction."""

    affect: Any
    speaker: str | None
    body: str
    units: list[str]
    children: list[str]  # the fact memories to make (decomposition)
    vectors: list[dict[str, Any]]  # their embedding columns, when embedded
    created: datetime


def enqueue_understand(conn: Any, memory: WrittenMemory) -> int:
    """Queue the ``understand`` job of a memory inside the store/update transaction that wrote it."""
    return enqueue(conn, UNDERSTAND_JOB, {"memory_id": memory.id}, user_id=memory.user_id)


def enqueue_understand_many(conn: Any, memories: list[WrittenMemory]) -> int:
    """Queue ONE ``understand`` job for the memories a ``store_many`` transaction wrote (an ingest batch)."""
    return enqueue(conn, UNDERSTAND_JOB, {"memory_ids": [m.id for m in memories]}, user_id=memories[0].user_id)


class Understanding:
    """Runs the understanding of memories (what they change reaches the search index and caches through
    the database's change feed)."""

    def __init__(self, db: Database, settings: Settings, vectors: EmbeddingManager, llm: Any = None) -> None:
        self.db = db
        self.settings = settings
        self.vectors = vectors
        self.llm = llm  # optional (ENGRAM_LLM_URL): decomposition asks it first, the rules answer if it fails
        self._locks: dict[int, asyncio.Lock] = {}

    def _lock(self, user_id: int) -> asyncio.Lock:
        return self._locks.setdefault(user_id, asyncio.Lock())

    async def understand_job(self, payload: dict[str, Any], user_id: int | None) -> dict[str, Any]:
        """The ``understand`` job handler."""
        if user_id is None:
            raise ValueError("understand jobs belong to a user")
        if "memory_ids" not in payload:
            return await self.process(user_id, int(payload["memory_id"]))
        return await self.process_many(user_id, [int(m) for m in payload["memory_ids"]])

    async def process(self, user_id: int, memory_id: int, *, decompose_it: bool = True) -> dict[str, Any]:
        """Understand one memory (see the module docstring); returns what was done."""
        async with self._lock(user_id):
            row = await self.db.aread(lambda c: _memory(c, user_id, memory_id))
            plan = await self._plan(row, decompose_it)
            if plan is None:
                return {"memory_id": memory_id, "skipped": "gone or a fact"}
            await self._embed_children([plan])
            result: dict[str, Any] = await self.db.awrite(self._writer(user_id, memory_id, plan))
            return result

    async def process_many(self, user_id: int, memory_ids: list[int]) -> dict[str, Any]:
        """Understand the memories of a ``store_many`` batch (one ``understand`` job for an ingest batch):
        read together, the fact memories of all of them embedded in ONE call (a bulk batch, not a few texts
        per memory competing with the ingest), then each written in its own short transaction as alone.
        Understanding a memory again changes nothing, so a retried batch is safe."""
        async with self._lock(user_id):
            rows = await self.db.aread(lambda c: [_memory(c, user_id, m) for m in memory_ids])
            plans = [await self._plan(row, True) for row in rows]
            await self._embed_children([p for p in plans if p is not None])
            skipped = 0
            for memory_id, plan in zip(memory_ids, plans, strict=True):
                if plan is None:
                    skipped += 1
                    continue
                done = await self.db.awrite(self._writer(user_id, memory_id, plan))
                skipped += 1 if "skipped" in done else 0
            return {"memory_ids": len(memory_ids), "skipped": skipped}

    async def _plan(self, row: Any, decompose_it: bool) -> _Plan | None:
        """What to write for a memory row (outside any transaction); None: gone or a fact memory."""
        if row is None or row["is_fact"]:
            return None
        text = row["content"]
        speaker, body = decompose.speaker_of(text)
        units = statements(decompose.prepare(body)[0], max(1, self.settings.decompose_max_facts))
        children: list[str] = []
        if decompose_it and not row["is_decomposed"]:
            limit = self.settings.decompose_max_facts
            llm_children = await decompose.llm_plan(self.llm, text, limit)
            children = llm_children if llm_children is not None else decompose.plan(text, limit)
        return _Plan(score(text), speaker, body, units, children, [], to_datetime(row["created_at"]))

    async def _embed_children(self, plans: list[_Plan]) -> None:
        texts = [c for p in plans for c in p.children]
        if not texts or not self.vectors.enabled:
            return
        embedded = await self.vectors.embed(texts, defer=True, bulk=True)  # a job: never ahead of a search
        if embedded is None:
            return
        k = 0
        for p in plans:
            p.vectors = [self.vectors.columns(v) for v in embedded[k : k + len(p.children)]]
            k += len(p.children)

    def _writer(self, user_id: int, memory_id: int, plan: _Plan) -> Callable[[Any], dict[str, Any]]:
        return lambda conn: self._write(conn, user_id, memory_id, plan)

    def _write(self, conn: Any, user_id: int, memory_id: int, plan: _Plan) -> dict[str, Any]:
        """The write transaction of one memory's understanding."""
        affect, speaker, body, units, children = plan.affect, plan.speaker, plan.body, plan.units, plan.children
        vectors, created = plan.vectors, plan.created
        current = _memory(conn, user_id, memory_id)
        if current is None:
            return {"memory_id": memory_id, "skipped": "gone"}
        if current["valence"] is None:  # scored in the store transaction; older memories here (sweep)
            conn.execute(
                "UPDATE memories SET valence = ?, arousal = ? WHERE id = ? AND user_id = ?",
                (affect.valence, affect.arousal, memory_id, user_id),
            )
        child_ids: list[int] = []
        if children and not current["is_decomposed"]:
            child_ids = decompose.insert_children(conn, user_id, current, children, vectors, self.settings.memory_quota)
        family = decompose.children_of(conn, user_id, memory_id)
        # Each statement's facts belong to the fact memory that holds it, else to the memory itself.
        owner = {r["content"]: int(r["id"]) for r in family}
        per_memory: dict[int, list[Any]] = {memory_id: []}
        for unit in units or [body]:
            target = owner.get(unit) or owner.get(f"{speaker}: {unit}") or memory_id
            per_memory.setdefault(target, []).extend(extract(unit, created, speaker))
        touched: set[str] = set()
        for target, triples in per_memory.items():
            touched |= timeline.replace_facts(conn, user_id, target, triples)
        changed = {memory_id, *child_ids}
        for key in sorted(touched):
            changed |= timeline.rebuild(conn, user_id, key)
        family_ids = {memory_id, *(int(r["id"]) for r in family)}
        pairs = 0
        # An undecomposed memory is its own only unit: its BM25 neighbours are read once, for the
        # contradiction check and for the causal links (the pairs recorded in between touch neither the
        # memories nor their text, so the second read would return the same rows).
        near: dict[str, list[Any]] = {}
        for unit_id, unit_text, unit_at in _units(current, family):
            near[unit_text] = _near(conn, user_id, unit_text, family_ids)
            for other in near[unit_text]:
                other_id = int(other["id"])
                newer, older = (unit_id, other_id) if unit_at >= other["created_at"] else (other_id, unit_id)
                texts = (unit_text, other["content"]) if newer == unit_id else (other["content"], unit_text)
                verdict = text_conflict(*texts)
                if verdict is not None and timeline.record_pair(conn, user_id, newer, older, verdict):
                    pairs += 1
                    changed |= {newer, older}
        whole = near.get(current["content"])
        if whole is None:
            whole = _near(conn, user_id, current["content"], family_ids)
        causes = _causal(conn, user_id, current, family, whole)
        changed |= causes
        return {
            "memory_id": memory_id,
            "child_ids": [int(r["id"]) for r in family],
            "causal_links": len(causes) // 2,
            "new_children": len(child_ids),
            "facts": sum(len(t) for t in per_memory.values()),
            "timelines": len(touched),
            "text_contradictions": pairs,
            "valence": affect.valence,
            "arousal": affect.arousal,
            "changed": sorted(changed),
        }

    # -- the retroactive sweep ------------------------------------------------------------------------
    async def sweep_job(self, payload: dict[str, Any], user_id: int | None) -> dict[str, Any]:
        """The ``decompose_sweep`` job: every memory up to ``through_id``, in id order, from ``cursor``.

        After each batch the cursor and progress are saved on the job row in one transaction, so a sweep
        interrupted by a crash resumes where it stopped (``process`` is idempotent anyway).
        """
        job_id = int(payload["job_id"])
        through = int(payload["through_id"])
        cursor = int(payload.get("cursor", 0))
        done = int(payload.get("done", 0))
        decomposed = int(payload.get("decomposed", 0))
        total = int(payload.get("total", 0)) or 1
        while True:
            batch = await self.db.aread(_sweep_batch(cursor, through))
            if not batch:
                break
            for r in batch:
                result = await self.process(int(r["user_id"]), int(r["id"]))
                decomposed += 1 if result.get("new_children") else 0
            cursor = int(batch[-1]["id"])
            done += len(batch)
            state = {**payload, "cursor": cursor, "done": done, "decomposed": decomposed}
            progress = min(1.0, done / total)
            await self.db.awrite(_save_sweep(job_id, state, progress))
        return {"processed": done, "decomposed": decomposed, "through_id": through}

    async def start_sweep(self, user_id: int) -> int:
        """Queue a sweep (unless one is queued or running); returns its job id."""

        def tx(conn: Any) -> int:
            row = conn.execute(
                "SELECT id FROM jobs WHERE kind = ? AND status IN ('queued', 'running')", (SWEEP_JOB,)
            ).fetchone()
            if row:
                return int(row[0])
            through, total = conn.execute(
                "SELECT coalesce(max(id), 0), count(*) FROM memories WHERE is_fact = 0 AND is_decomposed = 0"
                " AND is_latest = 1 AND is_deleted = 0"
            ).fetchone()
            job_id = enqueue(conn, SWEEP_JOB, {}, user_id=user_id)
            payload = {"job_id": job_id, "through_id": through, "total": total, "cursor": 0, "done": 0}
            conn.execute("UPDATE jobs SET payload = ? WHERE id = ?", (_json(payload), job_id))
            return job_id

        return await self.db.awrite(tx)


def _sweep_batch(cursor: int, through: int) -> Callable[[Any], list[Any]]:
    def run(conn: Any) -> list[Any]:
        return list(
            conn.execute(
                "SELECT m.id, m.user_id FROM memories m WHERE m.id > ? AND m.id <= ? AND m.is_fact = 0"
                " AND m.is_decomposed = 0 AND m.is_latest = 1 AND m.is_deleted = 0 ORDER BY m.id LIMIT ?",
                (cursor, through, SWEEP_BATCH),
            )
        )

    return run


def _save_sweep(job_id: int, state: dict[str, Any], progress: float) -> Callable[[Any], None]:
    def run(conn: Any) -> None:
        conn.execute(
            "UPDATE jobs SET payload = ?, progress = ?, updated_at = ? WHERE id = ?",
            (_json(state), progress, now_iso(), job_id),
        )

    return run


def _json(value: Any) -> str:
    return json.dumps(value)


def _memory(conn: Any, user_id: int, memory_id: int) -> Any:
    return conn.execute(
        "SELECT * FROM memories m WHERE m.id = ? AND m.user_id = ? AND m.is_deleted = 0 AND m.is_latest = 1",
        (memory_id, user_id),
    ).fetchone()


def _causal(conn: Any, user_id: int, row: Any, family: list[Any], near: list[Any]) -> set[int]:
    """Store the ``caused_by`` links the memory states (:mod:`.causal`) and those of the ``near`` memories
    (its BM25 neighbours, :func:`_near`) whose cause it states; the ids of the memories linked."""
    text = row["content"]
    nearby = [(int(r["id"]), r["content"]) for r in near]
    units = [(int(r["id"]), r["content"]) for r in family]
    antecedent = None
    if row["session_id"] and any(rel.leading for rel in relations(text)):
        prev = conn.execute(
            "SELECT id FROM memories WHERE user_id = ? AND session_id = ? AND id < ? AND is_fact = 0"
            " AND is_deleted = 0 AND is_latest = 1 ORDER BY id DESC LIMIT 1",
            (user_id, row["session_id"], row["id"]),
        ).fetchone()
        antecedent = int(prev[0]) if prev else None
    links = causal_links(int(row["id"]), text, units, nearby, antecedent)
    links += caused_by_others(int(row["id"]), text, nearby)
    return store_links(conn, user_id, links)


def _units(row: Any, family: list[Any]) -> list[tuple[int, str, str]]:
    """What to compare with other memories: the fact memories when decomposed, else the memory itself."""
    if family:
        return [(int(r["id"]), r["content"], row["created_at"]) for r in family]
    return [(int(row["id"]), row["content"], row["created_at"])]


def _near(conn: Any, user_id: int, text: str, exclude: set[int]) -> list[Any]:
    """The user's visible memories nearest to ``text`` by BM25 (decomposed ones are represented by their
    facts), without ``exclude``."""
    scope = search_scope(user_id, {})
    hits = [i for i, _ in fts_search(conn, scope, text, _CANDIDATES + len(exclude)) if i not in exclude]
    if not hits:
        return []
    marks = ",".join("?" for _ in hits)
    return list(
        conn.execute(
            f"SELECT id, content, created_at FROM memories WHERE id IN ({marks}) AND user_id = ? AND is_decomposed = 0",
            (*hits, user_id),
        )
    )[:_CANDIDATES]
