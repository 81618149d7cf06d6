"""The vector channel: cosine similarity between the query vector and the user's memory vectors.

For ordinary searches the in-memory :class:`~engram_core.vector_index.index.UserIndex` ranks every vector, and
the best ones are checked against the scope's SQL filters in growing batches until ``limit`` pass (or the
index is exhausted), so a filtered search still gets ``limit`` results when they exist. A LanceDB (ANN)
index widens only up to ``ANN_WIDEN_CAP`` candidates: a filter that selective is answered exactly from
SQL over the filtered rows instead. Scopes that can also return what the index leaves out (time travel,
forgotten or older versions) take the index's hits within the scope plus, from SQL, only the stored
vectors of memories outside the index.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import numpy as np

from ...model.memories import ACTIVE
from ...vector_index.index import UserIndex, best, decode_vector
from ..filters import Scope

if TYPE_CHECKING:
    from ...vector_index.ann import AnnUserIndex

__all__ = ["vector_search"]

_FIRST_BATCH = 4  # times the limit, for an approximate (ANN) ranking
# An exact ranking is a stable prefix, so the top ``limit`` that pass are the same whatever the first
# batch: start just above the limit (most indexed memories pass an unfiltered scope) and widen 4x when a
# filter drops more. The scope check is one primary-key lookup per id: 4x the limit was ~1 ms of CPU per
# search at 50-100 candidates (issue 19's profile), most of it for ids past the limit.
_EXACT_MARGIN = 1.25
ANN_WIDEN_CAP = 4096

log = logging.getLogger("engram.search")


def _from_index(
    conn: Any, scope: Scope, index: UserIndex | AnnUserIndex, query: np.ndarray, limit: int, model: str
) -> list[tuple[int, float]]:
    out: list[tuple[int, float]] = []
    seen: set[int] = set()  # an ANN ranking is not a stable prefix as it widens: check each id once
    want = max(int(limit * (_EXACT_MARGIN if index.exact else _FIRST_BATCH)), 32)
    scored: tuple[np.ndarray, np.ndarray] | None = None
    while True:
        if not index.exact and want > ANN_WIDEN_CAP:
            return _from_sql(conn, scope, query, limit, model)
        with index.lock:
            size = index.size
            if isinstance(index, UserIndex):  # score every vector once; widening only re-partitions
                scored = scored or index.scores(query)
            else:
                try:
                    ranked = index.top(query, min(size, want), conn)
                except Exception:  # unreadable LanceDB files: answer exactly from SQL, reopen next time
                    log.exception("LanceDB search failed for user %s; answering from SQL", scope.user_id)
                    index.stale = True
                    return _from_sql(conn, scope, query, limit, model)
        if scored is not None:
            size = len(scored[0])
            ranked = best(*scored, min(size, want))
        batch = [pair for pair in ranked if pair[0] not in seen]
        if batch:
            seen.update(i for i, _ in batch)
            allowed = scope.allowed(conn, [i for i, _ in batch])
            out.extend(pair for pair in batch if pair[0] in allowed)
        if len(out) >= limit or len(seen) >= size:
            out.sort(key=lambda pair: -pair[1])
            return out[:limit]
        want *= 4


# What the vector index leaves out (older versions, forgotten, trashed, consolidated), for scopes that
# can return those too: the index scores the rest. The flags are read from the covering visibility index
# (SQLite otherwise picks the session index and reads every row: 104 ms vs 45 ms at 100k memories).
OUTSIDE_INDEX = f" AND NOT ({ACTIVE})"
_VISIBILITY_INDEX = " INDEXED BY idx_memories_user_visible"


def _from_sql(
    conn: Any, scope: Scope, query: np.ndarray, limit: int, model: str, extra: str = "", hint: str = ""
) -> list[tuple[int, float]]:
    dim = int(query.shape[0])
    rows = conn.execute(
        f"SELECT m.id, m.embedding FROM memories m{hint} WHERE m.user_id = :user AND m.embedding IS NOT NULL"
        " AND m.embedding_model = :model" + scope.where + extra,
        scope.bind(model=model),
    ).fetchall()
    ids: list[int] = []
    vectors: list[np.ndarray] = []
    for r in rows:
        vec = decode_vector(r[1], dim)
        if vec is not None:
            ids.append(int(r[0]))
            vectors.append(vec)
    if not ids:
        return []
    scores = np.vstack(vectors) @ query
    order = np.argsort(-scores, kind="stable")[:limit]
    return [(ids[i], float(scores[i])) for i in order]


def vector_search(
    conn: Any, scope: Scope, index: UserIndex | AnnUserIndex | None, query: np.ndarray, limit: int, model: str
) -> list[tuple[int, float]]:
    """``(memory_id, cosine)`` best first within ``scope``.

    Args:
        conn: A read connection.
        scope: Who and which memories.
        index: The user's synced index, or None to score from SQL.
        query: The L2-normalised query vector.
        limit: Most results.
        model: The embedder's fingerprint (only vectors made by it are comparable).
    """
    if limit <= 0:
        return []
    if index is None:
        return _from_sql(conn, scope, query, limit, model)
    if scope.indexed:
        return _from_index(conn, scope, index, query, limit, model)
    # Time travel, forgotten or older versions: the index scores the current memories, SQL only the rest
    # (at 100k memories reading every stored vector took 0.7-1.2 s).
    hits = dict(_from_index(conn, scope, index, query, limit, model))  # (an ANN fallback may hold both)
    hits.update(_from_sql(conn, scope, query, limit, model, OUTSIDE_INDEX, _VISIBILITY_INDEX))
    return sorted(hits.items(), key=lambda pair: -pair[1])[:limit]
