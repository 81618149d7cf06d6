"""One-way replication of a user's memories to another Engram: a change log to pull, changes to apply.

**The log.** A pre-commit hook on the change feed (``Database.before_commit``) writes one ``sync_log`` row
per memory change in the same transaction as the change: ``insert`` (a new memory), ``update`` (a new
version, tags, flags, forget, archive, restore) or ``delete`` (trash or purge). Its id is the cursor. A row
names the memory's chain by ``sync_id`` (``<instance>:<root id>`` where it was first stored, kept as it
travels: a memory received from elsewhere keeps its origin's id, see ``sync_ids``).

**Pull** (``changes``): the caller's log after ``since``, one entry per chain (its latest change in the
window), with the chain's current state; ``cursor`` is what to pass as ``since`` next time.

**Apply** (``receive``): every change is checked first, then all are applied in ONE transaction. An
``insert`` or ``update`` of an unknown chain stores a memory (its ``created_at`` kept) and maps its sync id;
of a known chain, makes a new version only when content, category, importance, tags or ``is_static``
differ, and sets forgotten/archived to what the change says; a ``delete`` trashes the chain's latest version.
What is already so is skipped: receiving the same changes twice changes nothing the second time.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ..auth.context import AuthContext
from ..errors import Conflict, Invalid
from ..memories import writes
from ..memories.schemas import MAX_CONTENT_CHARS
from ..memories.service import MemoryService
from ..memories.simhash import fingerprint
from ..storage.changes import ChangeSet
from ..storage.database import Database
from ..timeutil import format_ts, now_iso
from ..validation import INT_MAX, Field, Schema

__all__ = ["CHANGES", "RECEIVE", "SyncService"]

MAX_CHANGES = 1000

SINCE_SCHEMA = {
    "oneOf": [
        {"type": "integer", "minimum": 0, "maximum": INT_MAX},
        {"type": "string", "format": "date-time"},
    ]
}


def _since(value: Any) -> int | str:
    """A cursor (an integer, digits in a query string) or an ISO-8601 timestamp with a timezone, normalised
    to UTC; a timestamp is turned into a cursor when the log is read."""
    if isinstance(value, str) and value.strip().isascii() and value.strip().isdigit():
        value = int(value.strip())
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise Invalid("since", "must be a cursor (an integer) or an ISO-8601 timestamp")
    if isinstance(value, int):
        if not 0 <= value <= INT_MAX:
            raise Invalid("since", f"a cursor must be between 0 and {INT_MAX}")
        return value
    text = value.strip()
    try:
        moment = datetime.fromisoformat(text[:-1] + "+00:00" if text[-1:] in ("Z", "z") else text)
    except (ValueError, OverflowError):
        raise Invalid("since", f"cannot read {value[:40]!r} as a cursor or an ISO-8601 timestamp") from None
    if moment.tzinfo is None:  # a naive time would be silently read in the server's zone, not the client's
        raise Invalid("since", "a timestamp needs a timezone (Z or +hh:mm)")
    try:
        return format_ts(moment)
    except (ValueError, OverflowError):  # year 1 or 9999 pushed out of range by the offset
        raise Invalid("since", f"{value[:40]!r} is out of range") from None


CHANGES = Schema(
    Field(
        "since",
        "any",
        default=0,
        check=_since,
        schema=SINCE_SCHEMA,
        help="The cursor of the last pull (0: everything), or an ISO-8601 timestamp with a timezone"
        " (2026-12-01T09:00:00Z): the changes logged at or after that time.",
    ),
    Field("limit", "int", default=100, min=1, max=MAX_CHANGES),
    description="The caller's memory changes after a cursor, one per memory chain, oldest first.",
)
CHANGE = Schema(
    Field("sync_id", "str", required=True, max_len=200),
    Field("change_type", "str", required=True, choices=("insert", "update", "delete")),
    Field("content", "text", max_len=MAX_CONTENT_CHARS),
    Field("category", "text", max_len=100),
    Field("source", "text", max_len=200),
    Field("importance", "int", min=1, max=10),
    Field("tags", "tags", max_items=50),
    Field("session_id", "str", max_len=200),
    Field("is_static", "bool"),
    Field("is_forgotten", "bool"),
    Field("is_archived", "bool"),
    Field("created_at", "timestamp"),
)
RECEIVE = Schema(
    Field(
        "changes",
        "any",
        required=True,
        help=f"Up to {MAX_CHANGES} changes as GET /sync/changes lists them.",
        schema={"type": "array", "items": CHANGE.json_schema(), "maxItems": MAX_CHANGES},
    ),
    description="Apply another Engram's changes (idempotent; all or none).",
)

_COMPARED = ("content", "category", "importance", "tags", "is_static")
_STATE = ("id", "root_id", "content", "category", "source", "importance", "tags", "session_id", "is_static",
          "is_forgotten", "is_archived", "is_deleted", "version", "created_at", "updated_at")  # fmt: skip


@dataclass
class _Plan:
    inserts: list[tuple[str, dict[str, Any]]]  # (sync_id, store body)
    updates: list[tuple[str, dict[str, Any]]]  # (sync_id, change)
    deletes: list[str]
    skipped: int


class SyncService:
    def __init__(self, db: Database, memories: MemoryService) -> None:
        self.db = db
        self.memories = memories
        self.quota = memories.settings.memory_quota
        self.instance = ""
        db.before_commit(self._log)

    def _instance(self, conn: Any) -> str:
        if not self.instance:
            row = conn.execute("SELECT instance FROM sync_instance").fetchone()
            self.instance = str(row[0]) if row else "local"
        return self.instance

    # -- the log --------------------------------------------------------------------------------------
    def _log(self, conn: Any, changes: ChangeSet) -> None:
        kinds = ("created", "updated", "hidden", "restored", "deleted")
        now = now_iso()
        for change in changes.of("memories", kinds):
            if change.user_id is None:
                continue
            for memory_id in change.ids:
                entry = self._entry(conn, change.kind, change.user_id, memory_id)
                if entry is not None:
                    conn.execute(
                        "INSERT INTO sync_log (user_id, sync_id, memory_id, change_type, created_at)"
                        " VALUES (?, ?, ?, ?, ?)",
                        (change.user_id, entry[0], memory_id, entry[1], now),
                    )

    def _entry(self, conn: Any, kind: str, user_id: int, memory_id: int) -> tuple[str, str] | None:
        if kind == "deleted":  # purged: the row is gone; its chain is named by its earlier log rows
            row = conn.execute(
                "SELECT sync_id FROM sync_log WHERE memory_id = ? AND user_id = ? ORDER BY id DESC LIMIT 1",
                (memory_id, user_id),
            ).fetchone()
            if row is None or self._logged_delete(conn, user_id, str(row[0])):
                return None
            return str(row[0]), "delete"
        m = conn.execute(
            "SELECT root_id, parent_id, is_latest, is_deleted FROM memories WHERE id = ? AND user_id = ?",
            (memory_id, user_id),
        ).fetchone()
        if m is None or (not m["is_latest"] and not m["is_deleted"]):
            return None  # a superseded version: the new version's own change stands for it
        sync_id = self.sync_id(conn, user_id, int(m["root_id"] or memory_id))
        if m["is_deleted"]:
            return sync_id, "delete"
        return sync_id, "insert" if kind == "created" and m["parent_id"] is None else "update"

    def _logged_delete(self, conn: Any, user_id: int, sync_id: str) -> bool:
        row = conn.execute(
            "SELECT change_type FROM sync_log WHERE user_id = ? AND sync_id = ? ORDER BY id DESC LIMIT 1",
            (user_id, sync_id),
        ).fetchone()
        return row is not None and row[0] == "delete"

    def sync_id(self, conn: Any, user_id: int, root_id: int) -> str:
        row = conn.execute(
            "SELECT sync_id FROM sync_ids WHERE user_id = ? AND root_id = ?", (user_id, root_id)
        ).fetchone()
        return str(row[0]) if row else f"{self._instance(conn)}:{root_id}"

    def _root_of(self, conn: Any, user_id: int, sync_id: str) -> int | None:
        """The local chain of ``sync_id`` (received before, or first stored here), or None."""
        row = conn.execute(
            "SELECT root_id FROM sync_ids WHERE user_id = ? AND sync_id = ?", (user_id, sync_id)
        ).fetchone()
        if row is not None:
            return int(row[0])
        prefix, _, root = sync_id.rpartition(":")
        if prefix == self._instance(conn) and root.isdigit():
            mine = conn.execute("SELECT 1 FROM memories WHERE id = ? AND user_id = ?", (int(root), user_id)).fetchone()
            return int(root) if mine else None
        return None

    # -- pull -----------------------------------------------------------------------------------------
    async def changes(self, auth: AuthContext, query: Any) -> dict[str, Any]:
        auth.require("read")
        q = CHANGES.parse(query)
        return await self.db.aread(lambda conn: self._changes(conn, auth.user_id, q["since"], q["limit"]))

    def _changes(self, conn: Any, user_id: int, since: int | str, limit: int) -> dict[str, Any]:
        if isinstance(since, str):
            since = self._cursor_at(conn, user_id, since)
        rows = conn.execute(
            "SELECT l.id, l.sync_id, l.change_type, l.memory_id FROM sync_log l WHERE l.user_id = ? AND l.id > ?"
            " AND l.id = (SELECT max(x.id) FROM sync_log x WHERE x.user_id = l.user_id AND x.sync_id = l.sync_id)"
            " ORDER BY l.id LIMIT ?",
            (user_id, since, limit + 1),
        ).fetchall()
        more = len(rows) > limit
        rows = rows[:limit]
        out: list[dict[str, Any]] = []
        for row in rows:
            item: dict[str, Any] = {"cursor": row["id"], "sync_id": row["sync_id"], "change_type": row["change_type"]}
            if row["change_type"] != "delete":
                state = conn.execute(
                    f"SELECT {', '.join(_STATE)} FROM memories WHERE user_id = ? AND is_latest = 1 AND"
                    " coalesce(root_id, id) = (SELECT coalesce(root_id, id) FROM memories WHERE id = ?)",
                    (user_id, row["memory_id"]),
                ).fetchone()
                if state is None:
                    continue
                item.update({k: state[k] for k in _STATE})
                item["tags"] = json.loads(item["tags"] or "[]")
                for flag in ("is_static", "is_forgotten", "is_archived", "is_deleted"):
                    item[flag] = bool(item[flag])
            out.append(item)
        last = int(rows[-1]["id"]) if rows else since
        top = conn.execute("SELECT coalesce(max(id), 0) FROM sync_log WHERE user_id = ?", (user_id,)).fetchone()[0]
        return {"changes": out, "count": len(out), "since": since, "cursor": last if more else max(last, int(top)),
                "more": more, "server_time": now_iso()}  # fmt: skip

    def _cursor_at(self, conn: Any, user_id: int, moment: str) -> int:
        """The cursor just before the caller's first change logged at or after ``moment`` (normalised UTC, as
        the log's ``created_at``); after the last change when there is none. The log's ids and times rise
        together (both are taken in the committing transaction, one writer at a time)."""
        first = conn.execute(
            "SELECT min(id) FROM sync_log WHERE user_id = ? AND created_at >= ?", (user_id, moment)
        ).fetchone()[0]
        if first is not None:
            return int(first) - 1
        top = conn.execute("SELECT coalesce(max(id), 0) FROM sync_log WHERE user_id = ?", (user_id,)).fetchone()[0]
        return int(top)

    # -- apply ----------------------------------------------------------------------------------------
    async def receive(self, auth: AuthContext, body: Any) -> dict[str, Any]:
        auth.require("write")
        raw = RECEIVE.parse(body)["changes"]
        if not isinstance(raw, list):
            raise Invalid("changes", "must be a list of changes")
        if len(raw) > MAX_CHANGES:
            raise Invalid("changes", f"at most {MAX_CHANGES} changes, got {len(raw)}")
        parsed = [_parse_change(i, c) for i, c in enumerate(raw)]
        plan = await self.db.aread(lambda conn: self._plan(conn, auth.user_id, parsed))
        updates = await self._prepare_updates(plan.updates)
        bodies = [body for _, body in plan.inserts]

        def in_tx(conn: Any, results: list[dict[str, Any]]) -> dict[str, int]:
            now = now_iso()
            for (sync_id, _), result in zip(plan.inserts, results, strict=True):
                if self._root_of(conn, auth.user_id, sync_id) is not None:
                    raise Conflict(f"sync_id {sync_id} was received meanwhile; send the changes again")
                conn.execute("INSERT INTO sync_ids (user_id, sync_id, root_id, created_at) VALUES (?, ?, ?, ?)",
                             (auth.user_id, sync_id, result["id"], now))  # fmt: skip
            applied = len(plan.inserts)
            for sync_id, change, extra in updates:
                applied += self._apply_update(conn, auth, sync_id, change, extra)
            for sync_id in plan.deletes:
                applied += self._apply_delete(conn, auth, sync_id)
            return {"applied": applied}

        box: dict[str, int] = {}
        await self.memories.store_many(auth, bodies, dedup=False, in_tx=lambda c, r: box.update(in_tx(c, r)))
        applied = box["applied"]
        return {"applied": applied, "skipped": len(parsed) - applied, "received": len(parsed)}

    def _plan(self, conn: Any, user_id: int, parsed: list[dict[str, Any]]) -> _Plan:
        plan = _Plan([], [], [], 0)
        fresh: set[str] = set()
        for i, change in enumerate(parsed):
            sync_id = change["sync_id"]
            root = self._root_of(conn, user_id, sync_id)
            if change["change_type"] == "delete":
                plan.deletes.append(sync_id)
            elif root is None and sync_id not in fresh:
                if change.get("content") is None:
                    raise Invalid(f"changes[{i}].content", "is required for a memory this server does not have")
                body = {k: change[k] for k in ("content", "category", "source", "importance", "tags", "session_id",
                                               "is_static", "created_at") if change.get(k) is not None}  # fmt: skip
                plan.inserts.append((sync_id, body))
                fresh.add(sync_id)
            else:
                plan.updates.append((sync_id, change))
        return plan

    async def _prepare_updates(
        self, updates: list[tuple[str, dict[str, Any]]]
    ) -> list[tuple[str, dict[str, Any], dict[str, Any]]]:
        """Vectors for new contents, embedded outside the transaction (an unchanged content is not used)."""
        texts = [c["content"] for _, c in updates if c.get("content") is not None]
        vectors = await self.memories.vectors.embed(texts, defer=True) if texts else None
        out, k = [], 0
        for sync_id, change in updates:
            extra: dict[str, Any] = {}
            if change.get("content") is not None:
                extra = {"simhash": fingerprint(change["content"]), "embedding": None, "embedding_model": None}
                if vectors is not None:
                    extra.update(self.memories.vectors.columns(vectors[k]))
                k += 1
            out.append((sync_id, change, extra))
        return out

    def _latest(self, conn: Any, user_id: int, sync_id: str) -> Any:
        root = self._root_of(conn, user_id, sync_id)
        if root is None:
            return None
        return conn.execute(
            "SELECT * FROM memories WHERE user_id = ? AND coalesce(root_id, id) = ? AND is_latest = 1 ORDER BY id"
            " DESC LIMIT 1",
            (user_id, root),
        ).fetchone()

    def _apply_update(
        self, conn: Any, auth: AuthContext, sync_id: str, change: dict[str, Any], extra: dict[str, Any]
    ) -> int:
        latest = self._latest(conn, auth.user_id, sync_id)
        if latest is None:
            return 0
        restored = 0
        if latest["is_deleted"]:  # restored over there (a delete would have been sent as one)
            writes.restore(conn, auth, int(latest["id"]), self.quota)
            latest, restored = self._latest(conn, auth.user_id, sync_id), 1
        now = {"content": latest["content"], "category": latest["category"], "importance": latest["importance"],
               "tags": json.loads(latest["tags"] or "[]"), "is_static": bool(latest["is_static"])}  # fmt: skip
        diff = {k: change[k] for k in _COMPARED if change.get(k) is not None and change[k] != now[k]}
        applied = restored
        memory_id = int(latest["id"])
        if diff:
            _, written = writes.update_memory(conn, auth, memory_id, diff, extra if "content" in diff else None)
            self.memories.run_tx_hooks(conn, written)
            memory_id, applied = written.id, 1
        forgotten = change.get("is_forgotten")
        if forgotten is True and not latest["is_forgotten"]:
            writes.forget(conn, auth, memory_id, "sync")
            applied = 1
        elif forgotten is False and latest["is_forgotten"]:
            writes.restore(conn, auth, memory_id, self.quota)
            applied = 1
        archived = change.get("is_archived")
        if archived is not None and bool(archived) != bool(latest["is_archived"]):
            (writes.archive if archived else writes.unarchive)(conn, auth, memory_id)
            applied = 1
        return applied

    def _apply_delete(self, conn: Any, auth: AuthContext, sync_id: str) -> int:
        latest = self._latest(conn, auth.user_id, sync_id)
        if latest is None or latest["is_deleted"]:
            return 0
        writes.move_to_trash(conn, auth, int(latest["id"]))
        return 1


def _parse_change(i: int, change: Any) -> dict[str, Any]:
    if not isinstance(change, dict):
        raise Invalid(f"changes[{i}]", "must be an object")
    try:
        return CHANGE.parse(change)
    except Invalid as exc:
        raise Invalid(f"changes[{i}].{exc.field}" if exc.field else f"changes[{i}]", exc.problem) from None
