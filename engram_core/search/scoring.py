"""Per-memory scoring after fusion: the boosts read from each row, and the public result shape.

The multipliers themselves are pure functions in :mod:`engram_core.search.boosts`; this module reads
what they need from the database rows (FSRS state, source count, static flag, PageRank, contradiction
links) and builds the result dicts of POST /search.

FSRS retrievability comes from :mod:`engram_core.decay` when that module is installed and the memory has
an FSRS state (``fsrs_stability`` set); otherwise the factor is 1.0.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

from ..model.memories import VISIBLE, visible
from ..timeutil import now_iso, to_datetime
from .boosts import RETRIEVABILITY_FLOOR, BoostResult, apply_boosts
from .temporal import TimeWindow, proximity_boost

__all__ = [
    "boost_row",
    "contents_of",
    "fetch_rows",
    "outdated_ids",
    "result_dict",
    "row_decay",
    "timeline_end",
    "user_clock",
]

_Retrievability = Callable[[Any, datetime], "tuple[float | None, float | None]"]


def _load_decay() -> _Retrievability | None:
    try:
        from ..decay.review import decay_score, retrievability
        from ..decay.state import FsrsState
    except ImportError:  # the cognitive core is not installed yet: no FSRS factor
        return None

    def compute(row: Any, now: datetime) -> tuple[float | None, float | None]:
        if row["fsrs_stability"] is None or row["fsrs_last_review"] is None:
            return None, None
        try:
            state = FsrsState.from_row(row)
            r = float(retrievability(state, now))
            return r, float(decay_score(state, now, float(row["importance"])))
        except Exception:  # a malformed state must never break a search
            return None, None

    return compute


_DECAY = _load_decay()


def row_decay(row: Any, now: datetime) -> tuple[float | None, float | None]:
    """(retrievability, decay_score) of a memory row at ``now``; (None, None) without FSRS state."""
    if _DECAY is None:
        return None, None
    return _DECAY(row, now)


_ROW_COLUMNS: str | None = None


def _row_columns(conn: Any) -> str:
    """Every column of ``memories`` but the embedding blob (1.5 KB a row that scoring never reads)."""
    global _ROW_COLUMNS
    if _ROW_COLUMNS is None:
        names = [r[1] for r in conn.execute("PRAGMA table_info(memories)") if r[1] != "embedding"]
        _ROW_COLUMNS = ", ".join(f"m.{name}" for name in names)
    return _ROW_COLUMNS


def fetch_rows(conn: Any, user_id: int, ids: Iterable[int]) -> dict[int, Any]:
    """The memory rows of ``ids`` (the user's only), by id, without their embedding."""
    rows = conn.execute(
        f"SELECT {_row_columns(conn)} FROM json_each(?) j CROSS JOIN memories m ON m.id = j.value WHERE m.user_id = ?",
        (json.dumps([int(i) for i in ids]), user_id),
    ).fetchall()
    return {int(r["id"]): r for r in rows}


def contents_of(conn: Any, user_id: int, ids: Iterable[int]) -> dict[int, str]:
    """The content of the memories ``ids`` (the user's only), by id."""
    rows = conn.execute(
        "SELECT m.id, m.content FROM json_each(?) j CROSS JOIN memories m ON m.id = j.value WHERE m.user_id = ?",
        (json.dumps([int(i) for i in ids]), user_id),
    ).fetchall()
    return {int(r[0]): str(r[1]) for r in rows}


def outdated_ids(conn: Any, user_id: int, ids: Iterable[int]) -> dict[int, float]:
    """Memories a *newer* memory contradicts (a ``contradicts`` link) -> confidence (link weight, 0..1)."""
    rows = conn.execute(
        "SELECT l.target_id, max(l.weight) FROM json_each(:ids) j CROSS JOIN memory_links l ON l.target_id = j.value"
        " JOIN memories s ON s.id = l.source_id JOIN memories t ON t.id = l.target_id"
        " WHERE +l.user_id = :user AND l.link_type = 'contradicts' AND s.created_at > t.created_at"
        f" AND {visible('s')} GROUP BY l.target_id",
        {"ids": json.dumps([int(i) for i in ids]), "user": user_id, "now": now_iso()},
    ).fetchall()
    return {int(r[0]): min(1.0, max(0.0, float(r[1] or 1.0))) for r in rows}


def boost_row(
    fused: float,
    row: Any,
    now: datetime,
    window: TimeWindow | None,
    outdated: float | None,
    *,
    clock: datetime | None = None,
    retrievability_floor: float = RETRIEVABILITY_FLOOR,
) -> tuple[BoostResult, float | None]:
    """Every multiplier for one memory row; returns the boosted result and its decay score (at ``now``).

    ``clock`` is the moment retrievability is measured at for the boost (default ``now``): see
    :func:`user_clock`.
    """
    retrievability, decay = row_decay(row, now)
    if clock is not None and clock != now:
        retrievability, _ = row_decay(row, clock)
    result = apply_boosts(
        fused,
        retrievability=retrievability,
        retrievability_floor=retrievability_floor,
        source_count=row["source_count"],
        is_static=bool(row["is_static"]),
        pagerank=row["pagerank"],
        temporal=proximity_boost(row["created_at"], window),
        is_outdated=outdated is not None,
        outdated_confidence=outdated if outdated is not None else 1.0,
        feedback=row["feedback_score"],
    )
    return result, decay


def user_clock(rows: Iterable[Any], now: datetime) -> datetime:
    """The newest last review among the candidate rows (never after ``now``); ``now`` without any.

    Retrievability measured against this clock fades a memory by how long it went unused *while newer
    memories came in*, not by how long ago the whole history happened: a chat history imported with its
    real dates (two years old) is not faded as a whole, and a live user's clock is ``now`` anyway.
    """
    newest: datetime | None = None
    for row in rows:
        raw = row["fsrs_last_review"]
        if raw is None:
            continue
        try:
            moment = to_datetime(str(raw))
        except ValueError:
            continue
        if newest is None or moment > newest:
            newest = moment
    return now if newest is None or newest > now else newest


def timeline_end(rows: Iterable[Any], now: datetime) -> datetime:
    """The newest ``created_at`` among the candidate rows (never after ``now``); ``now`` without any.

    Where the user's memories end: a month a query names without a year ("in June") is read as its
    latest occurrence up to here, so an imported history's June is its own, not this year's.
    """
    newest: datetime | None = None
    for row in rows:
        try:
            moment = to_datetime(str(row["created_at"]))
        except ValueError:
            continue
        if newest is None or moment > newest:
            newest = moment
    return now if newest is None or newest > now else newest


def result_dict(
    row: Any,
    *,
    score: float,
    combined: float,
    channels: list[str],
    raw: dict[str, float],
    question_type: str,
    decay: float | None,
) -> dict[str, Any]:
    """One result in the API.md shape of POST /search."""

    def rounded(name: str) -> float | None:
        value = raw.get(name)
        return None if value is None else round(value, 6)

    return {
        "id": row["id"],
        "content": row["content"],
        "category": row["category"],
        "source": row["source"],
        "importance": row["importance"],
        "created_at": row["created_at"],
        "tags": json.loads(row["tags"]),
        "is_static": bool(row["is_static"]),
        "version": row["version"],
        "score": round(score, 6),
        "search_type": "+".join(channels),
        "channels": channels,
        "decay_score": None if decay is None else round(decay, 6),
        "question_type": question_type,
        "semantic_score": rounded("vector"),
        "fts_score": rounded("fts"),
        "graph_score": rounded("graph"),
        "personality_score": rounded("personality"),
        "combined_score": round(combined, 8),
    }


def links_of(conn: Any, user_id: int, memory_id: int, root_id: int | None) -> dict[str, Any]:
    """``linked`` (visible linked memories) and ``version_chain`` of one memory, for ``include_links``."""
    linked = [
        {
            "id": r["other"],
            "link_type": r["link_type"],
            "direction": r["direction"],
            "weight": r["weight"],
            "content": r["content"],
        }  # fmt: skip
        for r in conn.execute(
            "SELECT l.target_id AS other, l.link_type, 'out' AS direction, l.weight, m.content"
            " FROM memory_links l"
            " JOIN memories m ON m.id = l.target_id WHERE l.source_id = :id AND +l.user_id = :user"
            f" AND m.user_id = :user AND {VISIBLE}"
            " UNION ALL SELECT l.source_id, l.link_type, 'in', l.weight, m.content FROM memory_links l"
            " JOIN memories m ON m.id = l.source_id WHERE l.target_id = :id AND +l.user_id = :user"
            f" AND m.user_id = :user AND {VISIBLE} LIMIT 50",
            {"id": memory_id, "user": user_id, "now": now_iso()},
        )
    ]
    chain = [
        {
            "id": r["id"],
            "version": r["version"],
            "is_latest": bool(r["is_latest"]),
            "created_at": r["created_at"],
        }
        for r in conn.execute(
            "SELECT id, version, is_latest, created_at FROM memories WHERE user_id = ? AND root_id = ?"
            " ORDER BY version, id",
            (user_id, root_id or memory_id),
        )
    ]
    return {"linked": linked, "version_chain": chain}
