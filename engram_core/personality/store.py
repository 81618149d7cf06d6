"""Personality signals in the database: extracted inside the store/update transaction, listed, profiled.

:func:`extract_in_tx` is registered with ``memories.in_write_tx``: it runs in the same transaction as the
insert of a memory (or of its new version), with the row's values, so a memory and its signals commit
together. Signals of
superseded, forgotten or trashed memories stay in the table (a purge cascades them away) but every read
here joins the memory and shows only signals of visible memories.
"""

from __future__ import annotations

import json
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from ..model.memories import VISIBLE
from ..timeutil import now_iso
from .signals import SIGNAL_TYPES, Signal, extract_signals, synthesize_profile

if TYPE_CHECKING:
    from ..memories.written import WrittenMemory

__all__ = ["extract_in_tx", "list_signals", "load_profile", "save_profile", "visible_signals"]


@lru_cache(maxsize=512)
def signals_of(text: str) -> tuple[Signal, ...]:
    """The signals of ``text`` (cached: the store path computes them before its transaction)."""
    return tuple(extract_signals(text))


def warm(text: str) -> None:
    """Extract ahead, outside the write transaction, so ``extract_in_tx`` only inserts."""
    signals_of(text)


def extract_in_tx(conn: Any, memory: WrittenMemory) -> None:
    """Insert the personality signals of the memory just written (inside its write transaction)."""
    signals = signals_of(memory.content)
    if not signals:
        return
    now = now_iso()
    conn.executemany(
        "INSERT INTO personality_signals (user_id, memory_id, type, subject, text, intensity, valence,"
        " created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        [(memory.user_id, memory.id, s.type, s.subject, s.text, s.intensity, s.valence, now) for s in signals],
    )


def _signal(r: Any) -> Signal:
    return Signal(type=r["type"], subject=r["subject"], text=r["text"], intensity=r["intensity"], valence=r["valence"])


def visible_signals(conn: Any, user_id: int, signal_type: str | None = None) -> list[Signal]:
    """Every signal of the user's visible memories, newest memory first."""
    sql = (
        "SELECT s.* FROM personality_signals s JOIN memories m ON m.id = s.memory_id"
        f" WHERE s.user_id = :user AND m.user_id = :user AND {VISIBLE}"
    )
    params: dict[str, Any] = {"user": user_id, "now": now_iso()}
    if signal_type:
        sql += " AND s.type = :type"
        params["type"] = signal_type
    return [_signal(r) for r in conn.execute(sql + " ORDER BY m.created_at DESC, s.id", params)]


def list_signals(conn: Any, user_id: int, signal_type: str | None, limit: int, offset: int) -> dict[str, Any]:
    """A page of the user's signals (newest first) with their memory ids, and counts per type."""
    params: dict[str, Any] = {"user": user_id, "now": now_iso(), "limit": limit, "offset": offset}
    where = f"s.user_id = :user AND m.user_id = :user AND {VISIBLE}"
    if signal_type:
        where += " AND s.type = :type"
        params["type"] = signal_type
    rows = conn.execute(
        "SELECT s.*, m.created_at AS memory_created_at FROM personality_signals s JOIN memories m"
        f" ON m.id = s.memory_id WHERE {where} ORDER BY m.created_at DESC, s.id LIMIT :limit OFFSET :offset",
        params,
    ).fetchall()
    counts = dict.fromkeys(SIGNAL_TYPES, 0)
    for r in conn.execute(
        "SELECT s.type, count(*) FROM personality_signals s JOIN memories m ON m.id = s.memory_id"
        f" WHERE s.user_id = :user AND m.user_id = :user AND {VISIBLE} GROUP BY s.type",
        {"user": user_id, "now": params["now"]},
    ):
        counts[r[0]] = r[1]
    signals = [
        {
            "id": r["id"],
            "memory_id": r["memory_id"],
            **_signal(r).as_dict(),
            "created_at": r["memory_created_at"],
        }
        for r in rows
    ]
    for s in signals:
        s.pop("start", None)
        s.pop("end", None)
    return {"signals": signals, "count": len(signals), "counts": counts}


def save_profile(conn: Any, user_id: int) -> dict[str, Any]:
    """Synthesise the profile from the visible signals and store it (write transaction)."""
    signals = visible_signals(conn, user_id)
    profile = synthesize_profile(signals)
    now = now_iso()
    conn.execute(
        "INSERT INTO personality_profiles (user_id, profile, signals, updated_at) VALUES (?, ?, ?, ?)"
        " ON CONFLICT(user_id) DO UPDATE SET profile = excluded.profile, signals = excluded.signals,"
        " updated_at = excluded.updated_at",
        (user_id, json.dumps(profile), len(signals), now),
    )
    return {"profile": profile, "signals": len(signals), "updated_at": now, "synthesized": True}


def load_profile(conn: Any, user_id: int) -> dict[str, Any]:
    """The stored profile, or one synthesised on the fly (not stored) when none was saved yet."""
    row = conn.execute("SELECT * FROM personality_profiles WHERE user_id = ?", (user_id,)).fetchone()
    if row is not None:
        profile = json.loads(row["profile"])
        return {"profile": profile, "signals": row["signals"], "updated_at": row["updated_at"],
                "synthesized": True}  # fmt: skip
    signals = visible_signals(conn, user_id)
    return {
        "profile": synthesize_profile(signals),
        "signals": len(signals),
        "updated_at": None,
        "synthesized": False,
    }
