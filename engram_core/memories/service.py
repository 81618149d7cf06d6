"""MemoryService: the store pipeline and lifecycle operations, awaitable, one transaction per write.

Caches and indexes follow every committed change through the database's change feed
(:mod:`engram_core.storage.changes`), not through calls from here.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from ..auth.context import AuthContext
from ..decay import decay_score, initial_state
from ..embeddings.manager import EmbeddingManager
from ..settings import Settings
from ..storage.database import Database
from ..timeutil import now_iso, to_datetime
from . import reads, writes
from .dedup import BANDS, boost_duplicate, find_recent_duplicate, find_recent_duplicates
from .schemas import FORGET, LIST, STORE, TAGS, TRASH, UPDATE
from .simhash import distance, fingerprint, wordless
from .written import BatchTxHook, ColumnsHook, PreparedBatch, TxHook, WrittenMemory

__all__ = ["MemoryService"]

# Runs after a purge committed, before it answers: (user_id, purged ids) — wipes copies outside the rows.
PurgeHook = Callable[[int, list[int]], Awaitable[None]]


class MemoryService:
    """Memory operations for one authenticated caller at a time. Every method checks the scope it needs."""

    def __init__(self, db: Database, settings: Settings, vectors: EmbeddingManager) -> None:
        self.db = db
        self.settings = settings
        self.vectors = vectors
        self._tx_hooks: list[TxHook] = []
        self._batch_hooks: dict[int, BatchTxHook] = {}  # index in _tx_hooks -> its form for a batch
        self._column_hooks: dict[int, ColumnsHook] = {}  # index in _tx_hooks -> the columns it writes, ahead
        self._prepare_hooks: list[Callable[[str], None]] = []
        self._purge_hooks: list[PurgeHook] = []
        self.on_timings: Callable[[dict[str, float]], None] | None = None  # store stage seconds (metrics)

    def after_purge(self, hook: PurgeHook) -> None:
        """Await ``hook(user_id, ids)`` after every committed purge, before it returns (WAL, LanceDB files)."""
        self._purge_hooks.append(hook)

    def before_write(self, hook: Callable[[str], None]) -> None:
        """Call ``hook(content)`` before a store/update transaction (pure work kept off the write thread; for a
        ``store_many`` batch it runs in a worker thread, so it must be thread-safe)."""
        self._prepare_hooks.append(hook)

    def in_write_tx(self, hook: TxHook, *, many: BatchTxHook | None = None, columns: ColumnsHook | None = None) -> None:
        """Call ``hook(conn, memory)`` inside every store/update transaction with the written row's values
        (:class:`~engram_core.memories.written.WrittenMemory`): durable follow-ups, no re-read.

        ``many(conn, memories)``: the same follow-up for all the memories a ``store_many`` transaction
        wrote, called once after they are all written (one job for a batch instead of one per memory).
        ``columns(content)``: for a hook that only sets columns of the memory's own row, those columns (pure,
        thread-safe): a new memory (``store``, ``store_many``) is inserted with them, computed before its
        transaction, and ``hook`` is not called for it (an UPDATE fewer); an update's new version still is."""
        if many is not None:
            self._batch_hooks[len(self._tx_hooks)] = many
        if columns is not None:
            self._column_hooks[len(self._tx_hooks)] = columns
        self._tx_hooks.append(hook)

    def _columns(self, content: str) -> dict[str, Any]:
        """The ``in_write_tx(columns=...)`` hooks' columns for a new memory with ``content``."""
        out: dict[str, Any] = {}
        for columns in self._column_hooks.values():
            out.update(columns(content))
        return out

    def run_tx_hooks(self, conn: Any, written: WrittenMemory) -> None:
        """Run the in-transaction hooks for a memory written by other code in the same transaction (sync)."""
        for hook in self._tx_hooks:
            hook(conn, written)

    # -- store / update -------------------------------------------------------------------------------
    async def store(self, auth: AuthContext, body: Any) -> dict[str, Any]:
        """Validate and store one memory; ``stored`` says whether a row was inserted.

        validate -> near-duplicate check (SimHash, inside the write so two identical concurrent stores
        cannot both insert) -> one transaction: row, FTS (trigger), FSRS initial Good review, and the
        durable follow-up jobs. A near-duplicate stores nothing (``stored: false``, ``duplicate: true``):
        it returns the existing id and bumps its source_count instead.
        """
        auth.require("write")
        started = time.perf_counter()
        timings: dict[str, float] = {}
        fields = STORE.parse(body)
        quota = self.settings.memory_quota
        fp = fingerprint(fields["content"])
        # Wordless text has no SimHash features to be near: only the same text is its duplicate.
        max_distance = 0 if wordless(fields["content"]) else self.settings.dedup_distance
        client_vector = fields.pop("embedding", None)
        vector_columns: dict[str, Any] = {}
        deferred = False  # the embedding endpoint is down: stored now, embedded by the backfill job
        if client_vector is not None:
            vector_columns = self.vectors.columns(self.vectors.client_vector(client_vector))
        timings["validate"] = time.perf_counter() - started
        if client_vector is None and self.vectors.enabled:
            # Embed outside the write transaction, unless this is a duplicate we would not store.
            mark = time.perf_counter()
            dup = await self.db.aread(lambda c: find_recent_duplicate(c, auth.user_id, fp, max_distance))
            timings["dedup"] = time.perf_counter() - mark
            if dup is None:
                mark = time.perf_counter()
                vectors = await self.vectors.embed([fields["content"]], defer=True)
                vector_columns = self.vectors.columns(vectors[0] if vectors is not None else None)
                deferred = vectors is None
                timings["embed"] = time.perf_counter() - mark

        mark = time.perf_counter()
        for prepare in self._prepare_hooks:
            prepare(fields["content"])
        computed = self._columns(fields["content"])
        timings["prepare"] = time.perf_counter() - mark

        def tx(conn: Any) -> dict[str, Any]:
            dup = find_recent_duplicate(conn, auth.user_id, fp, max_distance)
            if dup is not None:
                boost_duplicate(conn, auth, dup[0], dup[1])
                return {"stored": False, "duplicate": True, "existing_id": dup[0], "boosted": True,
                             "distance": dup[1]}  # fmt: skip
            created_at = fields.get("created_at") or now_iso()
            state = initial_state(to_datetime(created_at))
            extra = {"simhash": fp, **state.to_row(), **vector_columns, **computed}
            written = writes.insert_memory(conn, auth, {**fields, "created_at": created_at}, quota=quota, extra=extra)
            for k, hook in enumerate(self._tx_hooks):
                if k not in self._column_hooks:
                    hook(conn, written)
            return {
                "stored": True,
                "id": written.id,
                "created_at": created_at,
                "importance": fields["importance"],
                "embedded": "embedding" in vector_columns,
                **({"embedding_deferred": True} if deferred else {}),
                "tags": fields["tags"],
                "decay_score": round(decay_score(state, datetime.now(UTC), fields["importance"]), 6),
            }

        mark = time.perf_counter()
        result: dict[str, Any] = await self.db.awrite(tx)
        if self.on_timings is not None:
            timings["write"] = time.perf_counter() - mark  # queue wait + transaction on the write thread
            timings["total"] = time.perf_counter() - started
            self.on_timings(timings)
        return result

    async def store_many(
        self,
        auth: AuthContext,
        bodies: list[Any],
        *,
        dedup: bool = True,
        in_tx: Callable[[Any, list[dict[str, Any]]], object] | None = None,
    ) -> list[dict[str, Any]]:
        """Store several memories in ONE transaction (all or none), each as ``store`` would.

        Each body is validated first (nothing is written if one is invalid); vectors are embedded together
        outside the transaction; inside it each memory gets the near-duplicate check (so one repeated in
        the batch is a duplicate of the first), its row, FSRS state and follow-up jobs (one job per kind for
        the whole batch where the hook has a batch form, see ``in_write_tx``). Returns one result
        per body: ``{"stored": True, "id", ...}`` or ``{"stored": False, "duplicate": True, "existing_id"}``.
        ``dedup=False`` skips the near-duplicate check; ``in_tx(conn, results)`` runs last in the same
        transaction (links, flags on other rows: the caller's change commits with the stores or not at all).
        It is ``prepare_many`` then ``write_many``.
        """
        return await self.write_many(auth, await self.prepare_many(auth, bodies), dedup=dedup, in_tx=in_tx)

    async def prepare_many(self, auth: AuthContext, bodies: list[Any]) -> PreparedBatch:
        """The part of ``store_many`` before its transaction: validate, embed (one bulk call) and, in a worker
        thread at the same time, the pure per-text work (SimHash, ``before_write`` hooks). Writes nothing, so
        a caller may prepare the next batch while the previous one is written (the ingest's pipeline)."""
        auth.require("write")
        parsed = [STORE.parse(b) for b in bodies]
        for fields in parsed:
            fields.pop("embedding", None)
        if not parsed:
            return PreparedBatch([], None, False, [], [], [])
        texts = [f["content"] for f in parsed]
        vectors, (fps, distances, columns) = await asyncio.gather(
            self.vectors.embed(texts, defer=True), asyncio.to_thread(self._precompute, texts)
        )
        deferred = vectors is None and self.vectors.enabled  # the endpoint is down: backfilled
        return PreparedBatch(parsed, vectors, deferred, fps, distances, columns)

    def _precompute(self, texts: list[str]) -> tuple[list[int], list[int], list[dict[str, Any]]]:
        """SimHash, the near-duplicate distance and the hooks' columns of each text, and the ``before_write``
        hooks (pure)."""
        fps, distances, columns = [], [], []
        for text in texts:
            fps.append(fingerprint(text))
            # Wordless text has no SimHash features to be near: only the same text is its duplicate.
            distances.append(0 if wordless(text) else self.settings.dedup_distance)
            for prepare in self._prepare_hooks:
                prepare(text)
            columns.append(self._columns(text))
        return fps, distances, columns

    async def write_many(
        self,
        auth: AuthContext,
        batch: PreparedBatch,
        *,
        dedup: bool = True,
        in_tx: Callable[[Any, list[dict[str, Any]]], object] | None = None,
    ) -> list[dict[str, Any]]:
        """The transaction of ``store_many`` for a batch ``prepare_many`` made (see ``store_many``)."""
        auth.require("write")
        parsed, vectors, deferred = batch.parsed, batch.vectors, batch.deferred
        quota = self.settings.memory_quota

        def tx(conn: Any) -> list[dict[str, Any]]:
            out: list[dict[str, Any]] = []
            written_all: list[WrittenMemory] = []
            batched = len(parsed) > 1 and bool(self._batch_hooks)
            fps, distances = batch.fingerprints, batch.distances
            # The near-duplicates among the rows there before this batch, for all of it in one query; a body near
            # one stored earlier in this batch is checked again on its own below (those rows are new).
            before = find_recent_duplicates(conn, auth.user_id, fps, distances) if dedup else [None] * len(parsed)
            stored_fps: list[int] = []
            next_id = writes.next_memory_id(conn) if parsed else 0
            for i, fields in enumerate(parsed):
                fp = batch.fingerprints[i]
                dup = before[i]
                if dedup and (distances[i] >= BANDS or any(distance(fp, o) <= distances[i] for o in stored_fps)):
                    dup = find_recent_duplicate(conn, auth.user_id, fp, distances[i])  # a window scan, or new rows
                if dup is not None:
                    boost_duplicate(conn, auth, dup[0], dup[1])
                    out.append({"stored": False, "duplicate": True, "existing_id": dup[0], "distance": dup[1]})
                    continue
                created_at = fields.get("created_at") or now_iso()
                state = initial_state(to_datetime(created_at))
                columns = self.vectors.columns(vectors[i] if vectors is not None else None)
                extra = {"simhash": fp, **state.to_row(), **columns, **batch.columns[i]}
                row = {**fields, "created_at": created_at}
                written = writes.insert_memory(conn, auth, row, quota=quota, extra=extra, memory_id=next_id)
                next_id = written.id + 1
                written_all.append(written)
                stored_fps.append(fp)
                for k, hook in enumerate(self._tx_hooks):
                    if not (batched and k in self._batch_hooks) and k not in self._column_hooks:
                        hook(conn, written)
                out.append({"stored": True, "id": written.id, "created_at": created_at,
                            "embedded": "embedding" in columns,
                            **({"embedding_deferred": True} if deferred else {})})  # fmt: skip
            if batched and written_all:
                for many in self._batch_hooks.values():
                    many(conn, written_all)
            if in_tx is not None:
                in_tx(conn, out)
            return out

        return await self.db.awrite(tx)

    async def update(self, auth: AuthContext, memory_id: int, body: Any) -> dict[str, Any]:
        auth.require("write")
        changes = {k: v for k, v in UPDATE.parse(body, partial=True).items() if v is not None}
        extra: dict[str, Any] | None = None
        if "content" in changes:
            extra = {"simhash": fingerprint(changes["content"]), "embedding": None, "embedding_model": None}
            for prepare in self._prepare_hooks:
                prepare(changes["content"])
            vectors = await self.vectors.embed([changes["content"]], defer=True)
            if vectors is not None:
                extra.update(self.vectors.columns(vectors[0]))

        def tx(conn: Any) -> dict[str, Any]:
            result, written = writes.update_memory(conn, auth, memory_id, changes, extra)
            for hook in self._tx_hooks:
                hook(conn, written)
            return result

        return await self.db.awrite(tx)

    async def replace_tags(self, auth: AuthContext, memory_id: int, body: Any) -> dict[str, Any]:
        auth.require("write")
        tags = TAGS.parse(body)["tags"]
        return await self.db.awrite(lambda conn: writes.replace_tags(conn, auth, memory_id, tags))

    # -- lifecycle ------------------------------------------------------------------------------------
    async def _lifecycle(self, auth: AuthContext, fn: Callable[[Any], dict[str, Any]]) -> dict[str, Any]:
        auth.require("write")
        return await self.db.awrite(fn)

    async def forget(self, auth: AuthContext, memory_id: int, body: Any) -> dict[str, Any]:
        reason = FORGET.parse(body)["reason"]
        return await self._lifecycle(auth, lambda c: writes.forget(c, auth, memory_id, reason))

    async def archive(self, auth: AuthContext, memory_id: int) -> dict[str, Any]:
        return await self._lifecycle(auth, lambda c: writes.archive(c, auth, memory_id))

    async def unarchive(self, auth: AuthContext, memory_id: int) -> dict[str, Any]:
        return await self._lifecycle(auth, lambda c: writes.unarchive(c, auth, memory_id))

    async def delete(self, auth: AuthContext, memory_id: int) -> dict[str, Any]:
        return await self._lifecycle(auth, lambda c: writes.move_to_trash(c, auth, memory_id))

    async def restore(self, auth: AuthContext, memory_id: int) -> dict[str, Any]:
        quota = self.settings.memory_quota
        return await self._lifecycle(auth, lambda c: writes.restore(c, auth, memory_id, quota))

    async def purge(self, auth: AuthContext, memory_id: int) -> dict[str, Any]:
        """Delete a memory and all its versions; when this returns their text is gone from every file."""
        result = await self._lifecycle(auth, lambda c: writes.purge(c, auth, memory_id))
        for hook in self._purge_hooks:
            await hook(auth.user_id, list(result["ids"]))
        return result

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

    async def trash(self, auth: AuthContext, query: Any) -> dict[str, Any]:
        auth.require("read")
        q = TRASH.parse(query)
        return await self.db.aread(lambda conn: reads.list_trash(conn, auth.user_id, q["limit"], q["offset"]))

    async def versions(self, auth: AuthContext, memory_id: int) -> dict[str, Any]:
        auth.require("read")
        return await self.db.aread(lambda conn: reads.version_chain(conn, auth.user_id, memory_id))

    async def tags(self, auth: AuthContext) -> dict[str, Any]:
        auth.require("read")
        return await self.db.aread(lambda conn: reads.list_tags(conn, auth.user_id))

    async def user_stats(self, auth: AuthContext) -> dict[str, Any]:
        auth.require("read")
        return await self.db.aread(lambda conn: reads.user_stats(conn, auth.user_id))
