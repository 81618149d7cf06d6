"""Facts and contradictions in the database: fact rows, their timelines, contradiction pairs and links.

Every function takes the connection of the caller's transaction and the user; every query filters on it.

A **timeline** is the facts of one subject and predicate (one object too, for a predicate that holds many
values), ordered by ``valid_at``. :func:`rebuild` walks it: a fact that a later one ends (see
:func:`.contradictions.facts_conflict`) gets ``invalid_at`` = the later one's ``valid_at`` and
``superseded_by``; a restatement of the current value keeps it current. Each change is a contradiction
pair (newer memory, older memory) with a ``contradicts`` link (weight = confidence: search down-ranks the
older memory) and a ``supersedes`` link, newer -> older. The walk is recomputed from all the timeline's
facts, so facts that arrive out of order (an import with old dates) land in the right place and a pair that
no longer follows is removed with its links. Facts of trashed or forgotten memories stay out of the walk.
Nothing here deletes a memory.
"""

from __future__ import annotations

from typing import Any

from ..model.links import bump_links_changed, upsert_link
from ..storage.changes import record
from ..timeutil import now_iso
from .contradictions import Verdict, describe, facts_conflict
from .facts import FUNCTIONAL, Triple, object_key, says_change

__all__ = ["fact_dict", "fact_key", "rebuild", "record_pair", "replace_facts"]


def fact_key(subject: str, predicate: str, obj: str) -> str:
    """The timeline a fact belongs to: subject|predicate, plus |object for a many-valued predicate."""
    key = f"{subject}|{predicate}"
    return key if FUNCTIONAL(predicate) else f"{key}|{object_key(obj)}"


def replace_facts(conn: Any, user_id: int, memory_id: int, triples: list[Triple]) -> set[str]:
    """Store ``triples`` as the facts of ``memory_id`` (replacing its earlier ones); returns the timelines
    touched (``fact_key`` s), the old facts' included."""
    touched = {
        fact_key(r[0], r[1], r[2])
        for r in conn.execute(
            "SELECT subject, predicate, object FROM facts WHERE memory_id = ? AND user_id = ?", (memory_id, user_id)
        )
    }
    gone = [
        r[0] for r in conn.execute("SELECT id FROM facts WHERE memory_id = ? AND user_id = ?", (memory_id, user_id))
    ]
    conn.execute("DELETE FROM facts WHERE memory_id = ? AND user_id = ?", (memory_id, user_id))
    record(conn, "facts", "deleted", user_id, gone)
    now = now_iso()
    for t in triples:
        cur = conn.execute(
            "INSERT OR IGNORE INTO facts (user_id, memory_id, subject, predicate, object, polarity, confidence,"
            " valid_at, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (user_id, memory_id, t.subject, t.predicate, t.object, t.polarity, t.confidence, t.valid_at, now),
        )
        record(conn, "facts", "created", user_id, [cur.lastrowid] if cur.rowcount else [])
        touched.add(fact_key(t.subject, t.predicate, t.object))
    return touched


def _triple(r: Any) -> Triple:
    return Triple(r["subject"], r["predicate"], r["object"], r["polarity"], r["confidence"], r["valid_at"], False)


def rebuild(conn: Any, user_id: int, key: str) -> set[int]:
    """Recompute one timeline (see the module docstring); returns the memories whose standing changed."""
    subject, predicate, *rest = key.split("|", 2)
    rows = conn.execute(
        "SELECT f.*, m.content, m.created_at AS m_created FROM facts f JOIN memories m ON m.id = f.memory_id"
        " WHERE f.user_id = ? AND f.subject = ? AND f.predicate = ? AND m.user_id = f.user_id"
        " AND m.is_deleted = 0 AND m.is_forgotten = 0 ORDER BY f.valid_at, m.created_at, f.id",
        (user_id, subject, predicate),
    ).fetchall()
    if rest:
        rows = [r for r in rows if object_key(r["object"]) == rest[0]]
    ends: dict[int, tuple[str | None, int | None]] = {r["id"]: (None, None) for r in rows}
    pairs: dict[tuple[int, int], Verdict] = {}
    current: list[Any] = []  # the facts stating the value that holds now
    for r in rows:
        fact = _triple(r)
        if current and facts_conflict(fact, _triple(current[-1])):
            last = current[-1]
            for old in current:
                ends[old["id"]] = (r["valid_at"], r["id"])
            if r["memory_id"] != last["memory_id"] and (last["polarity"] > 0 or r["polarity"] > 0):
                text = describe(predicate, r["object"], r["polarity"], last["object"], last["polarity"])
                pairs[(r["memory_id"], last["memory_id"])] = Verdict(
                    "update" if says_change(r["content"]) else "conflict", float(r["confidence"]), text, True
                )
            current = [r]
        elif not current or _same_value(fact, _triple(current[-1])):
            current.append(r)
        elif fact.polarity > 0:
            current = [r]  # a value after a denial of another one: nothing to contradict
    changed: set[int] = set()
    for r in rows:
        invalid_at, by = ends[r["id"]]
        if (r["invalid_at"], r["superseded_by"]) != (invalid_at, by):
            conn.execute(
                "UPDATE facts SET invalid_at = ?, superseded_by = ? WHERE id = ? AND user_id = ?",
                (invalid_at, by, r["id"], user_id),
            )
            record(conn, "facts", "updated", user_id, [r["id"]])
            changed.add(int(r["memory_id"]))
    stale = conn.execute(
        "SELECT id, memory_a, memory_b FROM contradictions WHERE user_id = ? AND fact_key = ?", (user_id, key)
    ).fetchall()
    for row in stale:
        if (row["memory_a"], row["memory_b"]) not in pairs:
            _drop_pair(conn, user_id, row["id"], row["memory_a"], row["memory_b"])
            changed.update((int(row["memory_a"]), int(row["memory_b"])))
    for (newer, older), verdict in pairs.items():
        if record_pair(conn, user_id, newer, older, verdict, key):
            changed.update((newer, older))
    return changed


def _same_value(a: Triple, b: Triple) -> bool:
    return a.polarity == b.polarity and object_key(a.object) == object_key(b.object)


def record_pair(conn: Any, user_id: int, newer: int, older: int, verdict: Verdict, key: str | None = None) -> bool:
    """Store one contradiction (newer memory, older memory) and its links; True when something changed."""
    cur = conn.execute(
        "INSERT INTO contradictions (user_id, memory_a, memory_b, kind, confidence, description, fact_key,"
        " created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(memory_a, memory_b) DO UPDATE SET"
        " kind = excluded.kind, confidence = excluded.confidence, description = excluded.description,"
        " fact_key = excluded.fact_key WHERE fact_key IS NOT excluded.fact_key OR kind != excluded.kind",
        (user_id, newer, older, verdict.kind, verdict.confidence, verdict.description, key, now_iso()),
    )
    changed = int(bool(cur.rowcount))
    if changed:
        row = conn.execute("SELECT id FROM contradictions WHERE memory_a = ? AND memory_b = ?", (newer, older))
        record(conn, "contradictions", "updated", user_id, [row.fetchone()[0]])
    changed += upsert_link(conn, user_id, newer, older, "contradicts", round(verdict.confidence, 4))
    if verdict.supersedes:
        changed += upsert_link(conn, user_id, newer, older, "supersedes", 1.0)
    bump_links_changed(conn, user_id, changed)
    return changed > 0


def _drop_pair(conn: Any, user_id: int, row_id: int, newer: int, older: int) -> None:
    conn.execute("DELETE FROM contradictions WHERE id = ? AND user_id = ?", (row_id, user_id))
    record(conn, "contradictions", "deleted", user_id, [row_id])
    cur = conn.execute(
        "DELETE FROM memory_links WHERE user_id = ? AND source_id = ? AND target_id = ?"
        " AND link_type IN ('contradicts', 'supersedes')",
        (user_id, newer, older),
    )
    bump_links_changed(conn, user_id, cur.rowcount)


def fact_dict(r: Any) -> dict[str, Any]:
    """The public shape of one fact row."""
    return {
        "id": r["id"],
        "memory_id": r["memory_id"],
        "subject": r["subject"],
        "predicate": r["predicate"] if r["polarity"] > 0 or r["predicate"] != "likes" else "dislikes",
        "object": r["object"],
        "polarity": r["polarity"],
        "confidence": r["confidence"],
        "valid_at": r["valid_at"],
        "invalid_at": r["invalid_at"],
        "superseded_by": r["superseded_by"],
        "current": r["invalid_at"] is None,
        "user_id": r["user_id"],
        "created_at": r["created_at"],
    }
