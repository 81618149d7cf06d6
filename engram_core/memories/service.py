"""MemoryService: the store pipeline and lifecycle operations, awaitable, one transaction per write."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..auth.context import AuthContext
from ..settings import Settings
from ..storage.database import Database
from . import reads, writes
from .schemas import FORGET, LIST, STORE, TAGS, UPDATE

__all__ = ["MemoryService"]

WriteHook = Callable[[int, list[int]], None]
# Runs inside the store/update transaction: (conn, user_id, memory_id) — used to enqueue durable jobs.
TxHook = Callable[[Any, int, int], None]


class MemoryService:
    """Memory operations for one authenticated caller at a time. Every method checks the scope it needs."""

    def __init__(self, db: Database, settings: Settings) -> None:
        self.db = db
        self.settings = settings
        self._write_hooks: list[WriteHook] = []
        self._tx_hooks: list[TxHook] = []

    def in_write_tx(self, hook: TxHook) -> None:
        """Call ``hook(conn, user_id, memory_id)`` inside every store/update transaction (durable follow-ups)."""
        self._tx_hooks.append(hook)

    def on_write(self, hook: WriteHook) -> None:
        """Call ``hook(user_id, memory_ids)`` after every committed write (cache invalidation, indexes)."""
        self._write_hooks.append(hook)

    def _written(self, user_id: int, ids: list[int]) -> None:
        for hook in self._write_hooks:
            hook(user_id, ids)

    # -- store / update -------------------------------------------------------------------------------
    async def store(self, auth: AuthContext, body: Any) -> tuple[int, dict[str, Any]]:
        """Validate and store one memory. Returns (HTTP-ish status, response)."""
        auth.require("write")
        fields = STORE.parse(body)
        quota = self.settings.memory_quota

        def tx(conn: Any) -> dict[str, Any]:
            memory_id = writes.insert_memory(conn, auth, fields, quota=quota)
            for hook in self._tx_hooks:
                hook(conn, auth.user_id, memory_id)
            row = conn.execute("SELECT * FROM memories WHERE id = ?", (memory_id,)).fetchone()
            return {
                "stored": True,
                "id": memory_id,
                "created_at": row["created_at"],
                "importance": row["importance"],
                "embedded": row["embedding"] is not None,
                "tags": fields["tags"],
                "decay_score": None,
            }

        result = await self.db.awrite(tx)
        self._written(auth.user_id, [result["id"]])
        return 201, result

    async def update(self, auth: AuthContext, memory_id: int, body: Any) -> dict[str, Any]:
        auth.require("write")
        changes = {k: v for k, v in UPDATE.parse(body, partial=True).items() if v is not None}
        def tx(conn: Any) -> dict[str, Any]:
            result = writes.update_memory(conn, auth, memory_id, changes)
            for hook in self._tx_hooks:
                hook(conn, auth.user_id, result["new_id"])
            return result

        result = await self.db.awrite(tx)
        self._written(auth.user_id, [memory_id, result["new_id"]])
        return result

    async def replace_tags(self, auth: AuthContext, memory_id: int, body: Any) -> dict[str, Any]:
        auth.require("write")
        tags = TAGS.parse(body)["tags"]
        result = await self.db.awrite(lambda conn: writes.replace_tags(conn, auth, memory_id, tags))
        self._written(auth.user_id, [memory_id])
        return result

    # -- lifecycle ------------------------------------------------------------------------------------
    async def _lifecycle(self, auth: AuthContext, memory_id: int, fn: Callable[[Any], dict[str, Any]]) -> dict[str, Any]:
        auth.require("write")
        result = await self.db.awrite(fn)
        self._written(auth.user_id, list(result.get("ids") or [memory_id]))
        return result

    async def forget(self, auth: AuthContext, memory_id: int, body: Any) -> dict[str, Any]:
        reason = FORGET.parse(body)["reason"]
        return await self._lifecycle(auth, memory_id, lambda c: writes.forget(c, auth, memory_id, reason))

    async def archive(self, auth: AuthContext, memory_id: int) -> dict[str, Any]:
        return await self._lifecycle(auth, memory_id, lambda c: writes.archive(c, auth, memory_id))

    async def unarchive(self, auth: AuthContext, memory_id: int) -> dict[str, Any]:
        return await self._lifecycle(auth, memory_id, lambda c: writes.unarchive(c, auth, memory_id))

    async def delete(self, auth: AuthContext, memory_id: int) -> dict[str, Any]:
        return await self._lifecycle(auth, memory_id, lambda c: writes.move_to_trash(c, auth, memory_id))

    async def restore(self, auth: AuthContext, memory_id: int) -> dict[str, Any]:
        return await self._lifecycle(auth, memory_id, lambda c: writes.restore(c, auth, memory_id))

    async def purge(self, auth: AuthContext, memory_id: int) -> dict[str, Any]:
        return await self._lifecycle(auth, memory_id, lambda c: writes.purge(c, auth, memory_id))

    async def sweep_expired(self) -> int:
        return await self.db.awrite(writes.sweep_expired)

    # -- reads ----------------------------------------------------------------------------------------
    async def get(self, auth: AuthContext, memory_id: int) -> dict[str, Any]:
        """Read one memory and count the access (a short write)."""
        auth.require("read")

        def tx(conn: Any) -> dict[str, Any]:
            memory = reads.get_memory(conn, auth.user_id, memory_id)
            reads.touch(conn, auth.user_id, [memory_id])
            memory["access_count"] += 1
            return memory

        return await self.db.awrite(tx)

    async def list(self, auth: AuthContext, query: Any) -> dict[str, Any]:
        auth.require("read")
        q = LIST.parse(query)
        return await self.db.aread(lambda conn: reads.list_memories(conn, auth.user_id, q))

    async def trash(self, auth: AuthContext, limit: int, offset: int) -> dict[str, Any]:
        auth.require("read")
        return await self.db.aread(lambda conn: reads.list_trash(conn, auth.user_id, limit, offset))

    async def versions(self, auth: AuthContext, memory_id: int) -> dict[str, Any]:
        auth.require("read")
        return await self.db.aread(lambda conn: reads.version_chain(conn, auth.user_id, memory_id))

    async def tags(self, auth: AuthContext) -> dict[str, Any]:
        auth.require("read")
        return await self.db.aread(lambda conn: reads.list_tags(conn, auth.user_id))

    async def user_stats(self, auth: AuthContext) -> dict[str, Any]:
        auth.require("read")
        return await self.db.aread(lambda conn: reads.user_stats(conn, auth.user_id))
