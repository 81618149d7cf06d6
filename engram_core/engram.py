"""Engram: the facade the server, the CLI and scripts use. Owns the Database and the services."""

from __future__ import annotations

import asyncio
import logging
import math
import time
from typing import Any

from . import __version__
from .admin.backups import BackupService
from .admin.maintenance import Maintenance
from .auth.context import AuthContext
from .auth.guard import RequestLimits
from .auth.quotas import QuotaService
from .auth.service import AuthService
from .cognitive import Cognitive
from .crypto.database import open_database
from .embeddings.manager import EmbeddingManager
from .embeddings.service import EmbeddingService
from .errors import EmbeddingDown
from .intelligence.affect import columns as affect_columns
from .intelligence.affect import score_in_tx as score_affect
from .intelligence.affect import warm as warm_affect
from .intelligence.facts_service import FactsService
from .intelligence.services import IntelligenceServices
from .intelligence.understanding import (
    SWEEP_JOB,
    UNDERSTAND_JOB,
    Understanding,
    enqueue_understand,
    enqueue_understand_many,
)
from .jobs.queue import JobQueue
from .jobs.scheduler import Scheduler
from .llm.client import LlmClient
from .memories.service import MemoryService
from .metrics import Metrics
from .personality.service import PersonalityService
from .personality.store import extract_in_tx
from .personality.store import warm as warm_signals
from .portability.ingest import IngestService
from .portability.service import PortabilityService
from .portability.sync import SyncService
from .proxy import WorkingMemory
from .search.recall import RecallService
from .search.service import SearchService
from .services.suite import Hooks, Services
from .settings import Settings
from .storage.database import Database
from .toolkit import Toolkit

__all__ = ["Engram", "open_database"]

log = logging.getLogger("engram")

ANN_MAINTENANCE_SECONDS = 30.0  # LanceDB upkeep: promote big users, flush overlays, fold rows into the index


class Engram:
    """One Engram instance over one data dir. ``open`` it, ``start`` background work, ``close`` it."""

    def __init__(self, settings: Settings, db: Database, vectors: EmbeddingManager | None = None) -> None:
        self.settings = settings
        self.db = db
        self.vectors = vectors or EmbeddingManager(settings, db, None, "no embedding model configured")
        self.embedder = self.vectors.embedder
        self.embedding_service = EmbeddingService(settings, default=self.embedder)
        self.auth = AuthService(db, settings)
        self.llm = LlmClient(settings)  # optional: every caller falls back to rules when it is off or fails
        self.memories = MemoryService(db, settings, self.vectors)
        # The cross-encoder reranker (ENGRAM_RERANKER_ENABLED); None: no rerank stage, see reranker_reason.
        self.reranker: Any = None
        self.reranker_reason = "disabled (ENGRAM_RERANKER_ENABLED=false)"
        self.embed_executor: Any = self.vectors.batcher.executor if self.vectors.batcher is not None else None
        self.embed_batcher: Any = self.vectors.batcher  # search embeds its query through it (micro-batching)
        self.search = SearchService(db, settings, self)
        if self.embedder is not None:
            self.search.index.use_model(str(self.embedder.fingerprint), int(self.embedder.dim))
        self.recall = RecallService(self.search)
        self.portability = PortabilityService(db, settings, self.memories, self.vectors, self.enqueue_reembed)
        self.sync = SyncService(db, self.memories)
        self.personality = PersonalityService(db)
        self.memories.before_write(warm_signals)
        self.memories.in_write_tx(extract_in_tx)
        self.memories.after_purge(self._wipe_purged)
        self.limits = RequestLimits(settings)
        self.quotas = QuotaService(db, settings)
        self.backups = BackupService(settings, db)
        self.jobs = JobQueue(db, start_delay=settings.jobs_start_delay)
        self.jobs.register("reembed", self._reembed_job)
        # A remote embedding endpoint that is down: writes keep their memories, the backfill embeds them later.
        self.vectors.on_deferred = self._embedding_deferred
        self._deferred_at = -math.inf
        self._deferred_tasks: set[asyncio.Future[Any]] = set()
        self.maintenance = Maintenance(db, settings, self.jobs)  # /admin/rebuild-fts, compact, gc, schema
        self.ingest = IngestService(db, settings, self.memories, self.jobs)
        # Decomposition, structured facts, contradictions, affect: a durable job after each store/update.
        self.understanding = Understanding(db, settings, self.vectors, self.llm)
        self.memories.before_write(warm_affect)  # scored before the write, so the transaction only writes it
        # valence/arousal in the store transaction itself: in a new memory's INSERT, an UPDATE of a new version
        self.memories.in_write_tx(score_affect, columns=affect_columns)
        if settings.understand_on_store:
            self.memories.in_write_tx(enqueue_understand, many=enqueue_understand_many)
        self.jobs.register(UNDERSTAND_JOB, self.understanding.understand_job, background=True)
        self.jobs.register(SWEEP_JOB, self.understanding.sweep_job)
        self.facts = FactsService(db, self.understanding, self.jobs)
        self.scheduler = Scheduler()
        self.scheduler.every("ttl_sweep", settings.ttl_sweep_seconds, self.memories.sweep_expired)
        self.scheduler.every("wal_checkpoint", 600.0, self._checkpoint)
        if self.search.index.ann is not None:
            self.scheduler.every("vector_ann", ANN_MAINTENANCE_SECONDS, self._maintain_ann)
        # axon, webhooks, tasks, action log, agents, workflows, quality, brain, digests
        hooks = Hooks(remember=self.memories.store, search=self.search.search, recalled=self.on_recalled, llm=self.llm)
        self.services = Services(db, settings, self.scheduler, hooks)
        self.cognitive = Cognitive(
            db,
            settings,
            index=self.search.index,
            memories=self.memories,
            vectors=self.vectors,
            jobs=self.jobs,
            scheduler=self.scheduler,
        )  # FSRS, dedup, links, graph, entities...: jobs + periodic tasks
        self.intel = IntelligenceServices(
            db, settings, vectors=self.vectors, memories=self.memories, search=self.search, llm=self.llm
        )  # guard, /add, reflect, consolidate, memory health, feedback
        self.working = WorkingMemory(
            db,
            settings,
            search=self.search,
            memories=self.memories,
            vectors=self.vectors,
            extract=self.intel.extract,
            scheduler=self.scheduler,
        )  # chat proxy, retrieval logs, sessions, scratchpad, inbox
        # /preferences, /state, /pack, /prompt, /batch, /hooks/session-start
        self.toolkit = Toolkit(db, self.memories, self.cognitive.links, self.search, self.vectors.count_tokens,
                               self.recall, self.cognitive.episodes)  # fmt: skip
        # SearchService calls self.on_recalled itself (scheduled after the response, off the request path).
        self.metrics = Metrics(self)  # GET /metrics, /metrics/prometheus (per-instance registry)

    @classmethod
    def open(cls, settings: Settings) -> Engram:
        """Open (and migrate) the database named by ``settings`` and load the embedding model."""
        db = open_database(settings)
        try:
            engram = cls(settings, db, EmbeddingManager.load(settings, db))
        except BaseException:
            db.close()
            raise
        if settings.reranker_enabled:
            from .embeddings.rerank import load_reranker

            engram.reranker, engram.reranker_reason = load_reranker(settings)
            if engram.reranker is None:
                log.warning("reranking is off: %s", engram.reranker_reason)
        return engram

    async def start(self) -> None:
        """Start background work (called by the server lifespan)."""
        self.backups.sweep_stale()  # work files of a backup interrupted by a crash
        await self.memories.sweep_expired()
        await self.jobs.start()
        await self.services.start()
        if self.vectors.enabled and await self.db.aread(self.vectors.pending) > 0:
            await self.enqueue_reembed(None)  # backfill what was stored while no model was loaded
        self.scheduler.start()

    async def stop(self) -> None:
        await self.scheduler.stop()
        await self.working.close()
        await self.services.stop()
        await self.cognitive.stop()
        await self.jobs.stop()
        await self.vectors.close()

    async def enqueue_reembed(self, auth: AuthContext | None, *, delay: float = 0.0) -> dict[str, Any]:
        """Queue one re-embed job (unless one is queued already); returns it."""
        from .jobs.queue import enqueue

        def tx(conn: Any) -> int:
            row = conn.execute(
                "SELECT id FROM jobs WHERE kind = 'reembed' AND status IN ('queued', 'running')"
            ).fetchone()
            payload = {"requested_by": auth.user_id if auth else None}
            return int(row[0]) if row else enqueue(conn, "reembed", payload, delay=delay)

        job_id = await self.db.awrite(tx)  # the new job row wakes the queue (change feed)
        return await self.jobs.get(job_id, None)

    async def embedding_info(self) -> dict[str, Any]:
        info = await asyncio.get_running_loop().run_in_executor(None, self.vectors.info)
        info["pending"] = await self.db.aread(self.vectors.pending) if self.vectors.enabled else None
        return info

    def _embedding_deferred(self, reason: str) -> None:
        """A write kept a memory without its vector (the endpoint is down): queue the backfill once a cooldown."""
        cooldown = self.settings.embedding_api_cooldown_seconds
        now = time.monotonic()
        if now - self._deferred_at < max(cooldown, 1.0):
            return
        self._deferred_at = now
        log.warning("%s: memories are stored now and embedded when the endpoint answers", reason)
        task = asyncio.ensure_future(self.enqueue_reembed(None, delay=cooldown))
        self._deferred_tasks.add(task)
        task.add_done_callback(self._deferred_tasks.discard)

    async def _reembed_job(self, payload: dict[str, Any], user_id: int | None) -> dict[str, Any]:
        from .jobs.queue import enqueue

        try:
            count = await asyncio.get_running_loop().run_in_executor(None, self.vectors.reembed_sync)
        except EmbeddingDown as exc:
            # Still down: try again after the cooldown (the batches already embedded are kept), for as long
            # as it takes; a give-up after the queue's few retries would leave memories without vectors.
            delay = max(self.settings.embedding_api_cooldown_seconds, 1.0)
            await self.db.awrite(lambda conn: enqueue(conn, "reembed", {"requested_by": None}, delay=delay))
            return {"embedded": None, "deferred": exc.message, "next_try_seconds": delay}
        finally:
            self.search.index.reset()  # vectors changed outside the store path: every user's index reloads
        return {"embedded": count, "fingerprint": self.vectors.fingerprint}

    def close(self) -> None:
        self.backups.close()
        self.cognitive.close()
        self.db.close()

    def on_recalled(self, user_id: int, memory_ids: list[int]) -> None:
        """Memories returned by search, recall or context: each gets an implicit Good review (batched)."""
        self.cognitive.on_recalled(user_id, memory_ids)

    async def _maintain_ann(self) -> None:
        await asyncio.to_thread(self.search.index.maintain)

    async def _wipe_purged(self, user_id: int, ids: list[int]) -> None:
        """After a purge: its vectors out of the LanceDB files, then the WAL (which still holds the pages
        as they were before the purge) checkpointed and truncated to zero bytes."""
        if self.search.index.ann is not None:
            await asyncio.to_thread(self.search.index.purge, user_id, ids)
        for attempt in range(3):
            if (await self.db.acheckpoint("TRUNCATE"))[0] == 0:
                return
            await asyncio.sleep(0.05 * (attempt + 1))  # a reader held an older snapshot past the busy timeout
        log.warning("WAL not truncated after a purge (readers busy); the next checkpoint overwrites it")

    async def _checkpoint(self) -> None:
        await self.db.awrite_raw("PRAGMA wal_checkpoint(PASSIVE)")

    # -- health and stats -----------------------------------------------------------------------------
    async def health(self) -> dict[str, Any]:
        def counts(conn: Any) -> dict[str, int]:
            row = conn.execute(
                "SELECT (SELECT count(*) FROM memories WHERE is_latest = 1 AND is_deleted = 0) AS memories,"
                " (SELECT count(*) FROM users) AS users"
            ).fetchone()
            return {"memories": row["memories"], "users": row["users"]}

        return {
            "status": "ok",
            "version": __version__,
            "counts": await self.db.aread(counts),
            "embedding_model": self.vectors.fingerprint,
            "embedding_models": self.embedding_service.list_models(),  # what /v1/embeddings can serve
            "vector_search": self._vector_health(),
            "reranker": {"enabled": self.reranker is not None, "reason": self.reranker_reason},
            "llm_configured": self.llm.configured,
            "llm": await self.llm.status(),
            "jobs": self.scheduler.status(),
        }

    def _vector_health(self) -> dict[str, Any]:
        """Whether search has its vector channel; with a remote embedder, its circuit: ``open`` while the
        endpoint is down (search degraded, stores embedded later), ``closed`` when it answers."""
        out: dict[str, Any] = {"enabled": self.vectors.enabled, "reason": self.vectors.reason}
        status = getattr(self.vectors.embedder, "info_status", None)
        if callable(status):
            remote = status()
            out["endpoint"] = {"circuit": remote["circuit"], "last_error": remote["last_error"]}
            out["degraded"] = remote["circuit"] != "closed"
        return out

    async def ready(self) -> dict[str, Any]:
        await self.db.aread(lambda conn: conn.execute("SELECT 1").fetchone())
        return {"ready": True}

    async def stats(self, auth: AuthContext) -> dict[str, Any]:
        """Whole-server counts (admin)."""
        auth.require_admin()

        def run(conn: Any) -> dict[str, Any]:
            q = conn.execute
            return {
                "users": q("SELECT count(*) FROM users").fetchone()[0],
                "keys": q("SELECT count(*) FROM api_keys WHERE revoked_at IS NULL").fetchone()[0],
                "memories": q("SELECT count(*) FROM memories WHERE is_latest = 1 AND is_deleted = 0").fetchone()[0],
                "versions": q("SELECT count(*) FROM memories").fetchone()[0],
                "links": q("SELECT count(*) FROM memory_links").fetchone()[0],
                "audit_entries": q("SELECT count(*) FROM audit_log").fetchone()[0],
                "db_bytes": q("SELECT page_count * page_size FROM pragma_page_count(), pragma_page_size()").fetchone()[
                    0
                ],
            }

        return await self.db.aread(run)
