"""The change feed: what one write transaction changed, published after its COMMIT.

Every write runs on :class:`~engram_core.storage.database.Database`'s write thread. While it runs, the
rows it inserts, updates or deletes in the *captured* tables (:data:`CAPTURED_TABLES`) are recorded by
TEMP triggers on the write connection into ``temp.engram_changes`` — inside the transaction, so a
rollback forgets them with the rest. No writer has to remember to report anything: a new module that
runs ``UPDATE memories ...`` is covered by construction. Writers may add changes the triggers cannot
see (another table, for instance) with :func:`record`.

Just before COMMIT the database reads and clears that table (:func:`collect`), and after the COMMIT —
only if it committed — hands one immutable :class:`ChangeSet` to every listener registered with
``Database.subscribe``. Listeners run on the write thread and must be quick (see ``Database``); a slow
one subscribes through :func:`on_loop`, which hands each change set to an asyncio event loop.

A :class:`Change` is ``(table, kind, user_id, ids)``: the rows of one user in one table that changed
in one way. Each row appears once per change set, under its strongest kind (``deleted`` > ``created``
> ``hidden``/``restored`` > ``updated`` > ``reembedded`` > ``scored`` > ``accessed``): a memory stored
and given its ``root_id`` in the same transaction is just ``created``.

Kinds of a ``memories`` row (one trigger per group of columns classifies by which changed; a change of
``updated_at`` alone is not reported):

==========  ==================================================================================
created     inserted (a new memory, or the new version an update makes)
deleted     deleted (purge)
hidden      one more of: superseded (``is_latest`` 1 -> 0), forgotten (incl. TTL), trashed,
            consolidated (deduplicate), archived
restored    one fewer of those (unarchive, restore)
updated     any other column changed (content, tags, space, source_count, status, ...)
reembedded  only ``embedding`` / ``embedding_model`` changed
scored      only ranking inputs changed: FSRS state, retrieval strength, PageRank, community
accessed    only ``access_count`` / ``last_accessed_at`` changed (reads count accesses)
==========  ==================================================================================

Rows of other captured tables are ``created``, ``updated`` or ``deleted``.

A change set also carries the writer's ``cause`` (``None`` for ordinary writes; :data:`RECALL` for
the batched implicit reviews that searches themselves cause, which the search cache ignores).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any, Literal, get_args

__all__ = [
    "CAPTURED_TABLES",
    "KINDS",
    "RECALL",
    "Change",
    "ChangeKind",
    "ChangeSet",
    "Listener",
    "collect",
    "install_capture",
    "on_loop",
    "publish",
    "record",
    "trigger_names",
]

log = logging.getLogger("engram.db")

ChangeKind = Literal["created", "updated", "hidden", "restored", "deleted", "reembedded", "scored", "accessed"]
KINDS: tuple[ChangeKind, ...] = get_args(ChangeKind)

#: Tables whose row changes are captured by triggers (each has ``id`` and ``user_id`` columns).
CAPTURED_TABLES = ("memories", "memory_links", "jobs")

#: The cause of the implicit reviews a search, recall or context triggers (not a user's own write).
RECALL = "recall"

_PRIORITY: dict[str, int] = {
    "accessed": 1,
    "scored": 2,
    "reembedded": 3,
    "updated": 4,
    "hidden": 5,
    "restored": 5,
    "created": 6,
    "deleted": 7,
}


@dataclass(frozen=True, slots=True)
class Change:
    """Rows ``ids`` of ``table``, owned by ``user_id`` (None for rows without a user), changed as ``kind``."""

    table: str
    kind: ChangeKind
    user_id: int | None
    ids: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class ChangeSet:
    """Everything one committed write transaction changed. Immutable: safe to hand to another thread."""

    changes: tuple[Change, ...]
    seq: int = 0  # the database's commit counter: change sets arrive in commit order, 1, 2, ...
    cause: str | None = None

    def __iter__(self) -> Iterator[Change]:
        return iter(self.changes)

    def __len__(self) -> int:
        return len(self.changes)

    def __bool__(self) -> bool:
        return bool(self.changes)

    def of(self, table: str, kinds: Iterable[str] | None = None) -> list[Change]:
        """The changes to ``table`` (only those of ``kinds`` when given)."""
        wanted = None if kinds is None else set(kinds)
        return [c for c in self.changes if c.table == table and (wanted is None or c.kind in wanted)]

    def by_user(self, table: str, kinds: Iterable[str] | None = None) -> dict[int | None, list[int]]:
        """``{user_id: ids}`` of the rows of ``table`` changed (as one of ``kinds``, when given)."""
        out: dict[int | None, list[int]] = {}
        for c in self.of(table, kinds):
            out.setdefault(c.user_id, []).extend(c.ids)
        return out

    def users(self, tables: Iterable[str] | None = None) -> set[int]:
        """The users with a change (in ``tables``, when given)."""
        wanted = None if tables is None else set(tables)
        return {c.user_id for c in self.changes if c.user_id is not None and (wanted is None or c.table in wanted)}


Listener = Callable[[ChangeSet], object]


# -- capture (on the write connection) ------------------------------------------------------------------
_TEMP_TABLE = (
    "CREATE TEMP TABLE IF NOT EXISTS engram_changes (seq INTEGER PRIMARY KEY, tbl TEXT NOT NULL,"
    " user_id INTEGER, row_id INTEGER NOT NULL, kind TEXT NOT NULL)"
)
_INSERT = "INSERT INTO engram_changes (tbl, user_id, row_id, kind) VALUES"  # temp is searched first

# memories: the flags that hide a row (each counts 1 when set), and the column groups the kinds name.
_HIDING = {"is_latest": "(1 - {r}.is_latest)", "is_forgotten": "{r}.is_forgotten", "is_deleted": "{r}.is_deleted",
           "is_consolidated": "{r}.is_consolidated", "is_archived": "{r}.is_archived"}  # fmt: skip
_EMBEDDING = ("embedding", "embedding_model")
_SCORED_PREFIXES = ("fsrs_",)
_SCORED = ("storage_strength", "retrieval_strength", "pagerank", "community")
_ACCESSED = ("access_count", "last_accessed_at")
_NEUTRAL = ("updated_at",)  # stamped with every other change; alone it changes nothing worth telling


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _changed(columns: Iterable[str]) -> str:
    parts = [f"OLD.{_q(c)} IS NOT NEW.{_q(c)}" for c in columns]
    return "(" + " OR ".join(parts) + ")" if parts else "0"


def _memory_update_triggers(columns: list[str]) -> list[tuple[str, list[str], str]]:
    """``(name, watched columns, kind SQL)`` of the UPDATE triggers of ``memories``, one per column group.

    ``AFTER UPDATE OF cols`` fires only for statements that SET one of them, so a PageRank refresh runs
    the small ``scored`` trigger alone, not a comparison of every column.
    """
    hiding = [name for name in _HIDING if name in columns]
    scored = [c for c in columns if c in _SCORED or c.startswith(_SCORED_PREFIXES)]
    grouped = set(_HIDING) | set(_EMBEDDING) | set(scored) | set(_ACCESSED) | set(_NEUTRAL)
    old = " + ".join(_HIDING[c].format(r="OLD") for c in hiding)
    new = " + ".join(_HIDING[c].format(r="NEW") for c in hiding)
    groups = [
        ("visibility", hiding,
         f"CASE WHEN ({new}) > ({old}) THEN 'hidden' WHEN ({new}) < ({old}) THEN 'restored' ELSE 'updated' END"),
        ("updated", [c for c in columns if c not in grouped], "'updated'"),
        ("reembedded", [c for c in _EMBEDDING if c in columns], "'reembedded'"),
        ("scored", scored, "'scored'"),
        ("accessed", [c for c in _ACCESSED if c in columns], "'accessed'"),
    ]  # fmt: skip
    return [(name, cols, kind) for name, cols, kind in groups if cols]


def install_capture(conn: Any) -> list[str]:
    """Create the change table and the TEMP triggers on ``conn`` (the write connection); returns the
    captured tables that exist (a table missing from an unmigrated database is skipped)."""
    conn.execute(_TEMP_TABLE)
    installed = []
    for table in CAPTURED_TABLES:
        columns = [r[1] for r in conn.execute(f"PRAGMA main.table_info({_q(table)})")]
        if not columns or "id" not in columns:
            continue
        new_user, old_user = ("NEW.user_id", "OLD.user_id") if "user_id" in columns else ("NULL", "NULL")
        name = f"engram_feed_{table}"
        t = _q(table)
        statements = [
            f"CREATE TEMP TRIGGER IF NOT EXISTS {name}_insert AFTER INSERT ON main.{t} BEGIN"
            f" {_INSERT} ('{table}', {new_user}, NEW.id, 'created'); END",
            f"CREATE TEMP TRIGGER IF NOT EXISTS {name}_delete AFTER DELETE ON main.{t} BEGIN"
            f" {_INSERT} ('{table}', {old_user}, OLD.id, 'deleted'); END",
        ]
        updates = _memory_update_triggers(columns) if table == "memories" else [("update", columns, "'updated'")]
        for group, watched, kind in updates:
            statements.append(
                f"CREATE TEMP TRIGGER IF NOT EXISTS {name}_{group} AFTER UPDATE OF"
                f" {', '.join(_q(c) for c in watched)} ON main.{t} WHEN {_changed(watched)}"
                f" BEGIN {_INSERT} ('{table}', {new_user}, NEW.id, {kind}); END"
            )
        for sql in statements:
            conn.execute(sql)
        installed.append(table)
    return installed


def trigger_names(conn: Any) -> list[str]:
    """The capture triggers installed on ``conn`` (for benchmarks and checks)."""
    return [r[0] for r in conn.execute("SELECT name FROM sqlite_temp_master WHERE type = 'trigger'"
                                       " AND name LIKE 'engram_feed_%'")]  # fmt: skip


def record(conn: Any, table: str, kind: ChangeKind, user_id: int | None, ids: Iterable[int]) -> None:
    """Add changes the triggers cannot see to the current write transaction of ``conn``.

    A no-op on a connection without the change table (a script's or a test's own connection).
    """
    if kind not in _PRIORITY:
        raise ValueError(f"unknown change kind {kind!r}")
    rows = [(table, user_id, int(i), kind) for i in ids]
    if not rows:
        return
    try:
        conn.executemany(f"{_INSERT} (?, ?, ?, ?)", rows)
    except Exception as exc:
        if "no such table" not in str(exc):
            raise


_PRIORITY_SQL = "CASE kind " + " ".join(f"WHEN '{k}' THEN {p}" for k, p in _PRIORITY.items()) + " ELSE 0 END"
# One row per (table, kind, user): each changed row under its strongest kind (the latest one on a tie),
# merged in SQL so a bulk update of 10k rows costs a GROUP BY, not 10k Python tuples.
_COLLECT = (
    "SELECT tbl, kind, user_id, group_concat(row_id) FROM (SELECT tbl, kind, user_id, row_id, row_number() OVER"
    f" (PARTITION BY tbl, row_id ORDER BY {_PRIORITY_SQL} DESC, seq DESC) AS rn FROM temp.engram_changes)"
    " WHERE rn = 1 GROUP BY tbl, kind, user_id ORDER BY min(row_id)"
)


_COLLECT_ONCE = "SELECT tbl, kind, user_id, group_concat(row_id) FROM temp.engram_changes GROUP BY tbl, kind, user_id"
_COUNTS = (
    "SELECT count(*), (SELECT count(*) FROM (SELECT DISTINCT tbl, row_id FROM temp.engram_changes))"
    " FROM temp.engram_changes"
)


def collect(conn: Any) -> tuple[Change, ...]:
    """Read and clear the changes recorded so far in this transaction, merged per row (see above)."""
    total, distinct = conn.execute(_COUNTS).fetchone()
    if not total:
        return ()
    rows = conn.execute(_COLLECT_ONCE if total == distinct else _COLLECT).fetchall()  # each row once: no merge
    conn.execute("DELETE FROM temp.engram_changes")
    return tuple(
        Change(table, kind, user_id, tuple(sorted(int(i) for i in str(ids).split(","))))
        for table, kind, user_id, ids in rows
    )


def publish(listeners: Iterable[Listener], changes: ChangeSet) -> None:
    """Call every listener with ``changes``; one that raises is logged and the others still run."""
    for listener in listeners:
        try:
            listener(changes)
        except Exception:
            log.exception("change listener %r failed (change set %d)", listener, changes.seq)


def on_loop(loop: asyncio.AbstractEventLoop, handler: Callable[[ChangeSet], object]) -> Listener:
    """A listener that runs ``handler(change_set)`` on ``loop`` instead of the write thread: for slow
    subscribers (webhooks, the event bus). A coroutine handler is scheduled as a task; change sets keep
    their commit order. Failures are logged like any listener's. Nothing runs once the loop is closed."""

    def run(changes: ChangeSet) -> None:
        try:
            outcome = handler(changes)
            if asyncio.iscoroutine(outcome):
                task = loop.create_task(outcome)
                task.add_done_callback(_log_task_failure)
        except Exception:
            log.exception("change listener %r failed (change set %d)", handler, changes.seq)

    def listener(changes: ChangeSet) -> None:
        if not loop.is_closed():
            loop.call_soon_threadsafe(run, changes)

    return listener


def _log_task_failure(task: asyncio.Task[Any]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.error("change listener task failed", exc_info=task.exception())
