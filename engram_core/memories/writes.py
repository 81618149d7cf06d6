"""Memory writes as plain functions over the write connection, each called inside one transaction.

The facade (``engram_core.engram``) runs the steps that must stay outside a transaction (embedding,
near-duplicate search) first, then hands one of these to the write thread.
"""

from __future__ import annotations

import json
from typing import Any

from ..auth import audit
from ..auth.context import AuthContext
from ..auth.quotas import check_memory_quota
from ..auth.spaces import check_space
from ..decay.apply import apply_review
from ..decay.state import Grade
from ..errors import Conflict
from ..model.links import bump_links_changed
from ..model.memories import owned_memory
from ..timeutil import now_iso
from .written import WrittenMemory

__all__ = [
    "archive",
    "forget",
    "insert_memory",
    "move_to_trash",
    "next_memory_id",
    "purge",
    "replace_tags",
    "restore",
    "sweep_expired",
    "unarchive",
    "update_memory",
]

_COPIED = (
    "content", "category", "source", "importance", "tags", "session_id", "space_id", "is_static", "status",
    "forget_after", "fsrs_stability", "fsrs_difficulty", "fsrs_state", "fsrs_reps", "fsrs_lapses",
    "fsrs_last_review", "storage_strength", "retrieval_strength", "source_count", "valence", "arousal",
    "simhash", "embedding", "embedding_model",
)  # fmt: skip


def next_memory_id(conn: Any) -> int:
    """The id SQLite gives the next memory inserted without one: ``memories`` is AUTOINCREMENT, so one above the
    largest id the table has ever held (``sqlite_sequence``) or holds."""
    row = conn.execute(
        "SELECT max(coalesce((SELECT max(id) FROM memories), 0),"
        " coalesce((SELECT seq FROM sqlite_sequence WHERE name = 'memories'), 0)) + 1"
    ).fetchone()
    return int(row[0])


def insert_memory(
    conn: Any,
    auth: AuthContext,
    fields: dict[str, Any],
    *,
    quota: int = 0,
    extra: dict[str, Any] | None = None,
    memory_id: int | None = None,
) -> WrittenMemory:
    """Insert a new memory (version 1, its own root). ``extra`` holds computed columns (simhash, ...).

    ``quota`` is the default memory quota (ENGRAM_MEMORY_QUOTA); a per-user override in ``user_quotas``
    wins. Over the limit raises ``QuotaExceeded`` before anything is written. ``memory_id``: the id the
    row gets, which must be ``next_memory_id`` (a batch knows its ids ahead): the row is inserted with its
    ``root_id`` instead of given it by an UPDATE after; the row is the same.
    """
    check_space(conn, auth.user_id, fields.get("space_id"))
    check_memory_quota(conn, auth.user_id, quota)  # the user's override, else ``quota`` (0: none)
    now = now_iso()
    columns: dict[str, Any] = {
        "user_id": auth.user_id,
        "content": fields["content"],
        "category": fields["category"],
        "source": fields["source"],
        "importance": fields["importance"],
        "tags": json.dumps(fields["tags"]),
        "session_id": fields.get("session_id"),
        "space_id": fields.get("space_id"),
        "is_static": int(bool(fields.get("is_static"))),
        "status": fields.get("status") or "approved",
        "forget_after": fields.get("forget_after"),
        "created_at": fields.get("created_at") or now,
        "updated_at": now,
    }
    columns.update(extra or {})
    if memory_id is not None:
        columns.update(id=memory_id, root_id=memory_id)
    names = ", ".join(columns)
    marks = ", ".join("?" for _ in columns)
    cur = conn.execute(f"INSERT INTO memories ({names}) VALUES ({marks})", tuple(columns.values()))
    if memory_id is None:
        memory_id = int(cur.lastrowid)
        conn.execute("UPDATE memories SET root_id = ? WHERE id = ?", (memory_id, memory_id))
    audit.record(conn, auth, "memory.store", "memory", memory_id, {"category": columns["category"]})
    return _written(memory_id, columns)


def _written(memory_id: int, columns: dict[str, Any], replaces: int | None = None) -> WrittenMemory:
    return WrittenMemory(memory_id, int(columns["user_id"]), str(columns["content"]), str(columns["category"]),
                         columns.get("embedding") is not None, replaces)  # fmt: skip


def update_memory(
    conn: Any, auth: AuthContext, memory_id: int, changes: dict[str, Any], extra: dict[str, Any] | None = None
) -> tuple[dict[str, Any], WrittenMemory]:
    """Make a new version of a latest memory; the old one stays in the chain with ``is_latest = 0``.

    Returns the response and the new version's row values (for the in-transaction hooks)."""
    old = owned_memory(conn, auth.user_id, memory_id)
    if not old["is_latest"]:
        raise Conflict(f"memory {memory_id} is not the latest version; update the latest one")
    now = now_iso()
    columns = {name: old[name] for name in _COPIED}
    for name, value in changes.items():
        if name == "tags":
            columns["tags"] = json.dumps(value)
        elif name == "is_static":
            columns["is_static"] = int(value)
        else:
            columns[name] = value
    columns.update(extra or {})
    columns.update(
        user_id=auth.user_id,
        version=old["version"] + 1,
        parent_id=old["id"],
        root_id=old["root_id"] or old["id"],
        is_latest=1,
        access_count=old["access_count"],
        last_accessed_at=old["last_accessed_at"],
        is_archived=old["is_archived"],
        created_at=now,
        updated_at=now,
    )
    conn.execute("UPDATE memories SET is_latest = 0, updated_at = ? WHERE id = ?", (now, memory_id))
    names = ", ".join(columns)
    marks = ", ".join("?" for _ in columns)
    cur = conn.execute(f"INSERT INTO memories ({names}) VALUES ({marks})", tuple(columns.values()))
    new_id = int(cur.lastrowid)
    conn.execute(
        "INSERT INTO memory_links (user_id, source_id, target_id, link_type, weight, created_at)"
        " VALUES (?, ?, ?, 'updates', 1.0, ?)",
        (auth.user_id, new_id, memory_id, now),
    )
    bump_links_changed(conn, auth.user_id, 1)  # the `updates` link counts towards a PageRank refresh
    audit.record(conn, auth, "memory.update", "memory", new_id, {"old_id": memory_id, "fields": sorted(changes)})
    result = {
        "updated": True,
        "old_id": memory_id,
        "new_id": new_id,
        "version": columns["version"],
        "root_id": columns["root_id"],
        "embedded": columns.get("embedding") is not None,
    }
    return result, _written(new_id, columns, replaces=memory_id)


def replace_tags(conn: Any, auth: AuthContext, memory_id: int, tags: list[str]) -> dict[str, Any]:
    owned_memory(conn, auth.user_id, memory_id)
    conn.execute("UPDATE memories SET tags = ?, updated_at = ? WHERE id = ?", (json.dumps(tags), now_iso(), memory_id))
    audit.record(conn, auth, "memory.tags", "memory", memory_id, {"tags": tags})
    return {"updated": True, "id": memory_id, "tags": tags}


def _flag(conn: Any, auth: AuthContext, memory_id: int, sql: str, args: tuple[Any, ...], action: str) -> Any:
    row = owned_memory(conn, auth.user_id, memory_id, trashed=True)
    conn.execute(sql, (*args, memory_id))
    audit.record(conn, auth, action, "memory", memory_id)
    return row


def forget(conn: Any, auth: AuthContext, memory_id: int, reason: str | None) -> dict[str, Any]:
    row = owned_memory(conn, auth.user_id, memory_id)
    now = now_iso()
    conn.execute(
        "UPDATE memories SET is_forgotten = 1, forgotten_at = ?, forget_reason = ?, updated_at = ? WHERE id = ?",
        (now, reason, now, memory_id),
    )
    apply_review(conn, row, Grade.AGAIN)  # forgetting is a failed recall
    audit.record(conn, auth, "memory.forget", "memory", memory_id, {"reason": reason})
    return {"forgotten": True, "id": memory_id}


def archive(conn: Any, auth: AuthContext, memory_id: int) -> dict[str, Any]:
    """Archive a memory; records an FSRS Again review (archiving is a failed recall)."""
    row = _flag(conn, auth, memory_id, "UPDATE memories SET is_archived = 1, updated_at = ? WHERE id = ?",
                (now_iso(),), "memory.archive")  # fmt: skip
    apply_review(conn, row, Grade.AGAIN)
    return {"archived": True, "id": memory_id}


def unarchive(conn: Any, auth: AuthContext, memory_id: int) -> dict[str, Any]:
    _flag(conn, auth, memory_id, "UPDATE memories SET is_archived = 0, updated_at = ? WHERE id = ?", (now_iso(),),
          "memory.unarchive")  # fmt: skip
    return {"unarchived": True, "id": memory_id}


def move_to_trash(conn: Any, auth: AuthContext, memory_id: int) -> dict[str, Any]:
    owned_memory(conn, auth.user_id, memory_id)
    now = now_iso()
    conn.execute(
        "UPDATE memories SET is_deleted = 1, deleted_at = ?, updated_at = ? WHERE id = ?", (now, now, memory_id)
    )
    audit.record(conn, auth, "memory.delete", "memory", memory_id)
    return {"deleted": True, "id": memory_id}


def restore(conn: Any, auth: AuthContext, memory_id: int, quota: int = 0) -> dict[str, Any]:
    """Bring a memory back from the trash or from being forgotten.

    Out of the trash a memory counts against the memory quota again, so the quota is checked first.
    """
    row = owned_memory(conn, auth.user_id, memory_id, trashed=True)
    if not row["is_deleted"] and not row["is_forgotten"]:
        raise Conflict(f"memory {memory_id} is neither in the trash nor forgotten")
    if row["is_deleted"] and row["is_latest"]:
        check_memory_quota(conn, auth.user_id, quota)
    conn.execute(
        "UPDATE memories SET is_deleted = 0, deleted_at = NULL, is_forgotten = 0, forgotten_at = NULL,"
        " forget_reason = NULL, updated_at = ? WHERE id = ?",
        (now_iso(), memory_id),
    )
    audit.record(conn, auth, "memory.restore", "memory", memory_id)
    return {"restored": True, "id": memory_id}


def purge(conn: Any, auth: AuthContext, memory_id: int) -> dict[str, Any]:
    """Delete a memory and every version of it from every table, leaving no copy of its text.

    FTS (secure-delete, so the words leave the index), tags by trigger; links, entity mentions and
    personality signals by cascade; memory events (axon, webhook deliveries) that name it are deleted. A
    stored personality profile that drew on its signals is dropped
    (it is synthesised again from what is left on the next read), and the detail of its audit rows is
    emptied. ``secure_delete`` zeroes the freed space; the service checkpoints the WAL after the commit.
    """
    row = owned_memory(conn, auth.user_id, memory_id, trashed=True)
    root = row["root_id"] or row["id"]
    ids = [r[0] for r in conn.execute("SELECT id FROM memories WHERE user_id = ? AND (root_id = ? OR id = ?)",
                                      (auth.user_id, root, root))]  # fmt: skip
    marks = ", ".join("?" for _ in ids)
    conn.execute(f"UPDATE memories SET parent_id = NULL WHERE parent_id IN ({marks})", ids)
    conn.execute(f"DELETE FROM memory_links WHERE source_id IN ({marks}) OR target_id IN ({marks})", ids + ids)
    conn.execute(
        "DELETE FROM personality_profiles WHERE user_id = ? AND EXISTS (SELECT 1 FROM personality_signals"
        f" WHERE user_id = ? AND memory_id IN ({marks}))",
        [auth.user_id, auth.user_id, *ids],
    )
    conn.execute(f"DELETE FROM memories WHERE id IN ({marks})", ids)
    audit.clear_details(conn, auth.user_id, "memory", ids)
    for table in ("axon_events", "webhook_deliveries"):  # memory events quote the content (a snippet)
        conn.execute(
            f"DELETE FROM {table} WHERE user_id = ? AND EXISTS (SELECT 1 FROM json_tree({table}.payload) t"
            f" WHERE t.key = 'memory_id' AND t.type = 'integer' AND t.atom IN ({marks}))",
            [auth.user_id, *ids],
        )
    audit.record(conn, auth, "memory.purge", "memory", memory_id, {"versions": len(ids)})
    return {"purged": True, "id": memory_id, "ids": ids}


def sweep_expired(conn: Any, now: str | None = None) -> int:
    """Forget every memory past its ``forget_after``; returns how many."""
    now = now or now_iso()
    cur = conn.execute(
        "UPDATE memories SET is_forgotten = 1, forgotten_at = ?, forget_reason = 'ttl', updated_at = ?"
        " WHERE forget_after IS NOT NULL AND forget_after <= ? AND is_forgotten = 0",
        (now, now, now),
    )
    return int(cur.rowcount)
