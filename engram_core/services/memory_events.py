"""Memory events on axon's ``system`` channel, fed by the database's change feed.

A pre-commit hook of the database (``Database.before_commit``) runs inside every write transaction that
changed memories or links, after the writer's own work: it reads the changed rows and publishes
``memory.created`` (a new memory), ``memory.updated`` (a new version, a changed or restored memory),
``memory.deleted`` (trashed, forgotten, merged into a duplicate or purged) and ``contradiction.detected``
(a ``contradicts`` link) in that same transaction, so an event commits with its memory or not at all,
and is in ``axon_events`` by the time the writer's call returns. Streams and webhooks are told after
the COMMIT, like for any event.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

from ..storage.changes import ChangeSet
from ..storage.database import Database
from .axon import AxonService, Publisher

__all__ = ["SYSTEM", "MemoryEvents"]

log = logging.getLogger("engram.services")
SYSTEM = "system"
_MEMORY_KINDS = ("created", "updated", "hidden", "restored", "deleted")
_SNIPPET = 2000
Item = tuple[str, str, int, int]


class MemoryEvents:
    def __init__(self, db: Database, axon: AxonService) -> None:
        self.db = db
        self.axon = axon
        self._loop: asyncio.AbstractEventLoop | None = None
        self.enabled = True  # off after stop(): no more events (tests park it with the other background work)
        db.before_commit(self.in_transaction)

    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self.enabled = True

    async def stop(self) -> None:
        self.enabled = False
        self._loop = None

    def in_transaction(self, conn: Any, changes: ChangeSet) -> Callable[[], None] | None:
        """Inside the write transaction, before COMMIT: publish its memory events; after the COMMIT the
        returned callable hands them to axon's streams and webhooks on the event loop."""
        if not self.enabled:
            return None
        items: list[Item] = [
            (c.table, c.kind, c.user_id, i) for c in changes.of("memories", _MEMORY_KINDS) if c.user_id for i in c.ids
        ]
        items += [
            ("memory_links", "created", c.user_id, i)
            for c in changes.of("memory_links", ("created",))
            if c.user_id
            for i in c.ids
        ]
        if not items:
            return None
        events = self._publish(conn, items)
        if not events:
            return None

        def deliver() -> None:
            loop = self._loop
            if loop is not None and not loop.is_closed():
                loop.call_soon_threadsafe(self.axon.committed, events)

        return deliver

    def _publish(self, conn: Any, batch: list[Item]) -> list[dict[str, Any]]:
        pub = Publisher(self.axon, conn)
        for table, kind, user_id, row_id in batch:
            if table == "memory_links":
                link = conn.execute("SELECT * FROM memory_links WHERE id = ?", (row_id,)).fetchone()
                if link is not None and link["link_type"] == "contradicts":
                    payload = {
                        "link_id": row_id,
                        "source_id": link["source_id"],
                        "target_id": link["target_id"],
                        "weight": link["weight"],
                    }
                    pub.publish(user_id, SYSTEM, "contradiction.detected", payload, "engram")
                continue
            if kind == "deleted":
                pub.publish(user_id, SYSTEM, "memory.deleted", {"memory_id": row_id, "reason": "purged"}, "engram")
                continue
            row = conn.execute("SELECT * FROM memories WHERE id = ?", (row_id,)).fetchone()
            if row is None:
                continue
            action, extra = _classify(kind, row)
            if action is None:
                continue
            payload = {
                "memory_id": row_id,
                "version": row["version"],
                "previous_id": row["parent_id"],
                "category": row["category"],
                "importance": row["importance"],
                "content": row["content"][:_SNIPPET],
                **extra,
            }
            pub.publish(user_id, SYSTEM, action, payload, "engram")
        return pub.events


def _classify(kind: str, row: Any) -> tuple[str | None, dict[str, Any]]:
    if kind == "created":
        return ("memory.updated" if row["parent_id"] is not None else "memory.created"), {}
    if kind in {"updated", "restored"}:
        return "memory.updated", ({"restored": True} if kind == "restored" else {})
    for flag, reason in (("is_deleted", "trashed"), ("is_forgotten", "forgotten"), ("is_consolidated", "merged")):
        if row[flag]:
            return "memory.deleted", {"reason": reason}
    return None, {}  # superseded by a new version (that one is memory.updated) or archived
