"""Pseudo-relevance feedback: a second vector search from the query moved towards its best first hits.

A question whose answer is spread over several memories ("what activities does Melanie do?") finds one
or two of them well; the others share their vocabulary and topic more than the question's wording. So
after the first fusion of the vector and keyword channels, the query vector is moved towards the mean
vector of the :data:`FEEDBACK_SEEDS` best results (Rocchio: ``q + beta x mean(seeds)``, renormalised) and
the vector channel runs again with it; that second ranked list (channel ``feedback``) joins the fusion
with its own weight (``Tuning.feedback_weight``; 0 turns it off). No model call: the seed vectors are
read from the in-memory index that the first vector search used.

A hit found only by this channel is held to the vector-only floor like one found only by the vector
channel (the pipeline treats ``feedback`` as ``vector`` for the floor).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ...vector_index.index import UserIndex
from ..filters import Scope
from .vector import vector_search

__all__ = ["FEEDBACK_SEEDS", "feedback_query", "feedback_search"]

FEEDBACK_SEEDS = 3
"""How many of the first fusion's best results the query moves towards."""


def feedback_query(index: UserIndex, query: np.ndarray, seeds: Sequence[int], beta: float) -> np.ndarray | None:
    """``query + beta x`` the mean vector of ``seeds`` (those in ``index``), unit length; None without any."""
    with index.lock:
        rows = [index.row_of[s] for s in seeds if s in index.row_of]
        if not rows:
            return None
        centroid = index.matrix[rows].mean(axis=0)
    moved = query + beta * centroid
    norm = float(np.linalg.norm(moved))
    return None if norm == 0.0 else (moved / norm).astype(np.float32)


def feedback_search(
    conn: Any,
    scope: Scope,
    index: Any,
    query: np.ndarray,
    seeds: Sequence[int],
    beta: float,
    limit: int,
    model: str,
) -> list[tuple[int, float]]:
    """The vector channel's ranking for the moved query (empty when the index cannot give seed vectors)."""
    if not isinstance(index, UserIndex):  # a LanceDB index holds no vectors in memory
        return []
    moved = feedback_query(index, query, seeds[:FEEDBACK_SEEDS], beta)
    if moved is None:
        return []
    return vector_search(conn, scope, index, moved, limit, model)
