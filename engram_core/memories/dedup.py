"""Near-duplicate detection on store: SimHash against the user's visible latest memories.

Distances up to 3 (the default) use the band index of migration 0006: the candidates are the memories
sharing one of the fingerprint's four 16-bit bands (any fingerprint within distance 3 does), found by
four index probes over all of the user's memories. Larger distances fall back to scanning the newest
``RECENT_WINDOW`` memories. ``find_recent_duplicates`` looks up a whole batch in one query.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import numpy as np

from ..auth import audit
from ..auth.context import AuthContext
from ..model.memories import VISIBLE
from ..timeutil import now_iso
from .simhash import find_duplicate

__all__ = ["BANDS", "RECENT_WINDOW", "bands", "boost_duplicate", "find_recent_duplicate", "find_recent_duplicates"]

# How many of the user's newest memories a store is compared with (a scan of ints: ~0.2 ms per 1000).
RECENT_WINDOW = 2000


BANDS = 4
# Candidates are the memories reads and search can see (records.VISIBLE), so a duplicate never boosts a
# consolidated or expired memory the user cannot find.
_CANDIDATE = f"m.user_id = :user AND m.simhash IS NOT NULL AND {VISIBLE}"


def bands(fp: int) -> list[int]:
    """The four 16-bit bands of a (signed) 64-bit fingerprint, as SQLite's generated columns compute them."""
    unsigned = fp & 0xFFFFFFFFFFFFFFFF
    return [(unsigned >> (16 * k)) & 0xFFFF for k in range(BANDS)]


def find_recent_duplicate(conn: Any, user_id: int, fp: int, max_distance: int) -> tuple[int, int] | None:
    """``(existing_id, distance)`` of the nearest visible memory within ``max_distance``, or None."""
    if max_distance < 0:
        return None
    if max_distance < BANDS:
        # One index probe per band (a UNION, so the planner cannot fall back to scanning the user's rows).
        probes = " UNION ".join(
            f"SELECT id FROM memories WHERE user_id = :user AND simhash IS NOT NULL AND simhash_b{k} = :b{k}"
            for k in range(BANDS)
        )
        rows = conn.execute(
            f"SELECT m.id, m.simhash FROM ({probes}) AS p CROSS JOIN memories m ON m.id = p.id"
            f" WHERE {_CANDIDATE} ORDER BY m.id DESC",
            {"user": user_id, "now": now_iso(), **{f"b{k}": v for k, v in enumerate(bands(fp))}},
        ).fetchall()
        return find_duplicate(fp, ((r[0], r[1]) for r in rows), max_distance=max_distance)
    rows = conn.execute(
        f"SELECT m.id, m.simhash FROM memories m WHERE {_CANDIDATE} ORDER BY m.id DESC LIMIT :window",
        {"user": user_id, "now": now_iso(), "window": RECENT_WINDOW},
    ).fetchall()
    return find_duplicate(fp, ((r[0], r[1]) for r in rows), max_distance=max_distance)


def find_recent_duplicates(
    conn: Any, user_id: int, fps: Sequence[int], max_distances: Sequence[int]
) -> list[tuple[int, int] | None]:
    """``find_recent_duplicate`` of each fingerprint whose distance the band index serves (0 to 3), in one query
    over the memories there now; ``None`` for the others, which are not looked up.

    The candidates are the visible memories sharing a band with any of the fingerprints: a superset of each
    one's own, whose extra rows share none of its bands and so are more than 3 bits from it. The nearest within
    its distance, newest first on a tie, is therefore the one its own probe finds.
    """
    banded = [i for i, d in enumerate(max_distances) if 0 <= d < BANDS]
    out: list[tuple[int, int] | None] = [None] * len(fps)
    if not banded:
        return out
    wanted = [sorted({bands(fps[i])[k] for i in banded}) for k in range(BANDS)]
    probes = " UNION ".join(
        f"SELECT id FROM memories INDEXED BY idx_memories_simhash_b{k} WHERE user_id = :user AND simhash IS NOT NULL"
        f" AND simhash_b{k} IN (SELECT value FROM json_each(:b{k}))"  # the planner's pick without it: a scan
        for k in range(BANDS)
    )
    rows = conn.execute(
        f"SELECT m.id, m.simhash FROM ({probes}) AS p CROSS JOIN memories m ON m.id = p.id"
        f" WHERE {_CANDIDATE} ORDER BY m.id DESC",
        {"user": user_id, "now": now_iso(), **{f"b{k}": json.dumps(v) for k, v in enumerate(wanted)}},
    ).fetchall()
    if not rows:
        return out
    ids = [int(r[0]) for r in rows]
    candidates = np.array([int(r[1]) & 0xFFFFFFFFFFFFFFFF for r in rows], dtype=np.uint64)
    for i in banded:
        far = np.bitwise_count(candidates ^ np.uint64(fps[i] & 0xFFFFFFFFFFFFFFFF))
        j = int(np.argmin(far))  # the first (newest) of the nearest
        if int(far[j]) <= max_distances[i]:
            out[i] = (ids[j], int(far[j]))
    return out


def boost_duplicate(conn: Any, auth: AuthContext, existing_id: int, distance: int) -> None:
    """Count another sighting of an existing memory instead of storing a copy."""
    conn.execute(
        "UPDATE memories SET source_count = source_count + 1, updated_at = ? WHERE id = ?", (now_iso(), existing_id)
    )
    audit.record(conn, auth, "memory.duplicate", "memory", existing_id, {"distance": distance})
