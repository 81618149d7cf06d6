"""Auto-linking: after a store or update, link a memory to the user's most similar memories.

The durable ``autolink`` job (see ``links.enqueue_autolink``) runs ``autolink``: read the memory's
embedding and the user's other visible embedded memories (same model, same width) on a read
connection, rank them by cosine similarity there (numpy, off the event loop), then write at most
``limit`` links at or above ``threshold`` in both directions, type ``similarity``, weight = the
similarity, in one short transaction. A memory without an embedding finishes without links; whoever
embeds it later queues the job again.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..auth import audit
from ..embeddings.vectors import from_blob
from ..model.links import bump_links_changed, upsert_link
from ..model.memories import VISIBLE
from ..storage.database import Database
from ..timeutil import now_iso
from ..vector_index.index import VectorIndex

__all__ = ["autolink", "autolink_many", "plan_links"]


def plan_links(
    conn: Any, user_id: int, memory_id: int, threshold: float, limit: int, index: VectorIndex | None = None
) -> list[tuple[int, float]] | None:
    """``[(other_id, similarity)]`` best first, or None when the memory is gone or not embedded.

    With the search ``index`` (in-memory vectors of the user's visible memories), ranking is one
    matrix-vector product; without it, or for a vector of another model, the vectors are read from SQL.
    """
    params: dict[str, Any] = {"user": user_id, "id": memory_id, "now": now_iso()}
    user_index = index.sync(conn, user_id) if index is not None and index.model is not None else None
    row = conn.execute(
        "SELECT m.embedding, m.embedding_model FROM memories m WHERE m.id = :id AND m.user_id = :user AND " + VISIBLE,
        params,
    ).fetchone()
    if row is None or row["embedding"] is None or limit <= 0:
        return None
    if user_index is not None and index is not None and row["embedding_model"] == index.model:
        query = from_blob(row["embedding"]).astype(np.float32)
        with user_index.lock:
            hits = user_index.top(query, limit + 1, conn)
        return [(other, round(sim, 6)) for other, sim in hits if other != memory_id and sim >= threshold][:limit]
    params.update(size=len(row["embedding"]), model=row["embedding_model"])
    rows = conn.execute(
        "SELECT m.id, m.embedding FROM memories m WHERE m.user_id = :user AND m.id != :id AND "
        + VISIBLE
        + " AND m.embedding IS NOT NULL AND length(m.embedding) = :size AND m.embedding_model IS :model",
        params,
    ).fetchall()
    if not rows:
        return []
    query = from_blob(row["embedding"]).astype(np.float32)
    matrix = np.frombuffer(b"".join(r[1] for r in rows), dtype="<f4").reshape(len(rows), -1)
    norms = np.linalg.norm(matrix, axis=1) * (np.linalg.norm(query) or 1.0)
    sims = (matrix @ query) / np.where(norms == 0, 1.0, norms)
    candidates = np.flatnonzero(sims >= threshold)
    if candidates.size == 0:
        return []
    best = candidates[np.argsort(-sims[candidates], kind="stable")[:limit]]
    return [(int(rows[i][0]), round(float(sims[i]), 6)) for i in best]


def _write(conn: Any, user_id: int, memory_id: int, plan: list[tuple[int, float]]) -> int:
    exists = conn.execute("SELECT 1 FROM memories WHERE id = ? AND user_id = ?", (memory_id, user_id)).fetchone()
    if exists is None:
        return 0
    changed = 0
    for other, similarity in plan:
        if conn.execute("SELECT 1 FROM memories WHERE id = ? AND user_id = ?", (other, user_id)).fetchone() is None:
            continue
        changed += upsert_link(conn, user_id, memory_id, other, "similarity", similarity)
        changed += upsert_link(conn, user_id, other, memory_id, "similarity", similarity)
    bump_links_changed(conn, user_id, changed)
    audit.record(conn, None, "link.autolink", "memory", memory_id, {"links": changed}, user_id=user_id)
    return changed


async def autolink(
    db: Database, user_id: int, memory_id: int, *, threshold: float, limit: int, index: VectorIndex | None = None
) -> dict[str, Any]:
    """Run the auto-link step for one memory; returns what it did (the job's result)."""
    plan = await db.aread(lambda conn: plan_links(conn, user_id, memory_id, threshold, limit, index))
    if plan is None:
        return {"memory_id": memory_id, "linked": 0, "reason": "memory not embedded (or gone)"}
    if not plan:
        return {"memory_id": memory_id, "linked": 0}
    changed = await db.awrite(lambda conn: _write(conn, user_id, memory_id, plan))
    return {
        "memory_id": memory_id,
        "linked": len(plan),
        "links_changed": changed,
        "targets": [{"id": other, "similarity": sim} for other, sim in plan],
    }


async def autolink_many(
    db: Database, user_id: int, memory_ids: list[int], *, threshold: float, limit: int, index: VectorIndex | None = None
) -> dict[str, Any]:
    """``autolink`` for a batch of memories (one job for a ``store_many`` batch): every plan on one read
    connection, every link in one transaction. Links are upserts, so a retried batch changes nothing twice."""

    def plan_all(conn: Any) -> dict[int, list[tuple[int, float]] | None]:
        return {m: plan_links(conn, user_id, m, threshold, limit, index) for m in memory_ids}

    plans = await db.aread(plan_all)
    todo = {m: plan for m, plan in plans.items() if plan}

    def write_all(conn: Any) -> int:
        return sum(_write(conn, user_id, m, plan) for m, plan in todo.items())

    changed = await db.awrite(write_all) if todo else 0
    return {
        "memory_ids": len(memory_ids),
        "linked": sum(len(p) for p in todo.values()),
        "links_changed": changed,
        "not_embedded": sum(1 for p in plans.values() if p is None),
    }
