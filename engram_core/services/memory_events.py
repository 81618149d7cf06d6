"""Memory events on axon's ``system`` channel, fed by the database's change feed.

The change feed hands every committed change set to this listener on the write thread; the memory and
link changes are queued to one task on the event loop, which reads the rows and publishes, in commit
order and one transaction per batch: ``memory.created`` (a new memory), ``memory.updated`` (a new version,
a changed or restored memory), ``memory.deleted`` (trashed, forgotten, merged into a duplicate or purged)
and ``contradiction.detected`` (a ``contradicts`` link). Webhooks and streams receive them like any event.
The events are written after the memory's own commit: a crash in between loses the event (not the memory).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from ..storage.changes import ChangeSet
from ..storage.database import Database
from .axon import AxonService, Publisher

__all__ = ["SYSTEM", "MemoryEvents"]

log = logging.getLogger("engram.services")
SYSTEM = "system"
_MEMORY_KINDS = ("created", "updated", "hidden", "restored", "deleted")
_SNIPPET = 2000


class MemoryEvents:
    def __init__(self, db: Database, axon: AxonService) -> None:
        self.db = db
        self.axon = axon
        self._loop: asyncio.AbstractEventLoop | None = None
        self._queue: asyncio.Queue[list[tuple[str, str, int, int]]] | None = None
        self._task: asyncio.Task[None] | None = None
        db.subscribe(self.listener)

    def listener(self, changes: ChangeSet) -> None:
        """On the write thread: keep what matters, hand it to the loop (never touches the database)."""
        if self._loop is None or self._queue is None:
            return
        items = [(c.table, c.kind, c.user_id, i) for c in changes.of("memories", _MEMORY_KINDS) if c.user_id
                 for i in c.ids]  # fmt: skip
        items += [("memory_links", "created", c.user_id, i) for c in changes.of("memory_links", ("created",))
                  if c.user_id for i in c.ids]  # fmt: skip
        if items:
            queue = self._queue
            self._loop.call_soon_threadsafe(queue.put_nowait, items)  # type: ignore[arg-type]

    async def start(self) -> None:
        self._queue = asyncio.Queue()
        self._loop = asyncio.get_running_loop()
        self._task = asyncio.create_task(self._run(), name="engram-memory-events")

    async def stop(self) -> None:
        self._loop = None
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _run(self) -> None:
        assert self._queue is not None
        while True:
            batch = await self._queue.get()
            while not self._queue.empty():  # one transaction for whatever piled up meanwhile
                batch += self._queue.get_nowait()

            def tx(conn: Any, pub: Publisher, batch: list[tuple[str, str, int, int]] = batch) -> None:
                self._publish(conn, pub, batch)

            try:
                await self.axon.write(tx)
            except Exception:
                log.exception("cannot publish %d memory events", len(batch))

    def _publish(self, conn: Any, pub: Publisher, batch: list[tuple[str, str, int, int]]) -> None:
        for table, kind, user_id, row_id in batch:
            if table == "memory_links":
                link = conn.execute("SELECT * FROM memory_links WHERE id = ?", (row_id,)).fetchone()
                if link is not None and link["link_type"] == "contradicts":
                    payload = {"link_id": row_id, "source_id": link["source_id"], "target_id": link["target_id"],
                               "weight": link["weight"]}  # fmt: skip
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


def _classify(kind: str, row: Any) -> tuple[str | None, dict[str, Any]]:
    if kind == "created":
        return ("memory.updated" if row["parent_id"] is not None else "memory.created"), {}
    if kind in {"updated", "restored"}:
        return "memory.updated", ({"restored": True} if kind == "restored" else {})
    for flag, reason in (("is_deleted", "trashed"), ("is_forgotten", "forgotten"), ("is_consolidated", "merged")):
        if row[flag]:
            return "memory.deleted", {"reason": reason}
    return None, {}  # superseded by a new version (that one is memory.updated) or archived
