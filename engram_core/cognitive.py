"""The cognitive core wired into one Engram: FSRS reviews, dedup, links, graph ranking, entities,
projects, episodes, conversations, their durable jobs and periodic tasks.

``Cognitive(db, settings, ...)`` builds the services and registers, on the memory service, embedding
manager, job queue and scheduler it is given:

* in every store/update transaction, and in the backfill transaction that embeds a memory later: the
  durable ``autolink`` job (and a changed-link count for the ``updates`` link an update writes);
* job ``autolink``: similarity links for a memory (see ``graph.autolink``);
* task ``implicit_review_flush``: the batched Good reviews of recalled memories;
* task ``pagerank_refresh``: PageRank for users with enough changed links or a stale rank;
* task ``communities``: Louvain for every user with links.
"""

from __future__ import annotations

from typing import Any

from .decay.apply import ImplicitReviews
from .decay.service import FsrsService
from .embeddings.manager import EmbeddingManager
from .graph.autolink import autolink, autolink_many
from .graph.entities import EntityService
from .graph.links import AUTOLINK_JOB, LinkService, enqueue_autolink, enqueue_autolink_many
from .graph.ranking import GraphRanker
from .graph.service import GraphService
from .jobs.queue import JobQueue
from .jobs.scheduler import Scheduler
from .memories.duplicates import DedupService
from .memories.service import MemoryService
from .organize.conversations import ConversationService
from .organize.episodes import EpisodeService
from .organize.projects import ProjectService
from .settings import Settings
from .storage.database import Database
from .vector_index.index import VectorIndex

__all__ = ["Cognitive", "PAGERANK_CHECK_SECONDS"]

#: How often the PageRank task looks for users that are due (it refreshes only those).
PAGERANK_CHECK_SECONDS = 10.0


class Cognitive:
    """The cognitive services of one Engram (see the module docstring for what gets registered)."""

    def __init__(
        self,
        db: Database,
        settings: Settings,
        *,
        index: VectorIndex,
        memories: MemoryService,
        vectors: EmbeddingManager,
        jobs: JobQueue,
        scheduler: Scheduler,
    ) -> None:
        self.settings = settings
        self.db = db
        self.index = index  # the in-memory vectors autolink ranks against
        self.reviews = ImplicitReviews(db)
        self.fsrs = FsrsService(db)
        self.dedup = DedupService(db, settings)
        self.links = LinkService(db)
        self.ranker = GraphRanker(
            db, link_threshold=settings.pagerank_link_threshold, interval=settings.pagerank_interval_seconds
        )
        self.graph = GraphService(db, self.ranker)
        self.entities = EntityService(db)
        self.projects = ProjectService(db)
        self.episodes = EpisodeService(db)
        self.conversations = ConversationService(db)
        memories.in_write_tx(
            lambda conn, memory: enqueue_autolink(conn, memory.user_id, memory.id),
            many=lambda conn, batch: enqueue_autolink_many(conn, batch[0].user_id, [m.id for m in batch]),
        )
        vectors.after_embed.append(enqueue_autolink)  # embedded later (backfill): link it then
        jobs.register(AUTOLINK_JOB, self._autolink_job, background=True)
        scheduler.every("implicit_review_flush", settings.review_flush_seconds, self.reviews.flush)
        scheduler.every(
            "pagerank_refresh",
            min(PAGERANK_CHECK_SECONDS, settings.pagerank_interval_seconds),
            self.ranker.tick,
        )
        scheduler.every("communities", settings.community_interval_seconds, self.ranker.all_communities)

    async def _autolink_job(self, payload: dict[str, Any], user_id: int | None) -> dict[str, Any]:
        if user_id is None:
            raise ValueError("autolink jobs belong to a user")
        threshold, limit = self.settings.autolink_threshold, self.settings.autolink_max
        if "memory_ids" in payload:  # one job for a store_many batch
            ids = [int(m) for m in payload["memory_ids"]]
            return await autolink_many(self.db, user_id, ids, threshold=threshold, limit=limit, index=self.index)
        return await autolink(
            self.db, user_id, int(payload["memory_id"]), threshold=threshold, limit=limit, index=self.index
        )

    def on_recalled(self, user_id: int, memory_ids: list[int]) -> None:
        """Queue implicit Good reviews of memories a search, recall or context returned."""
        self.reviews.add(user_id, memory_ids)

    async def stop(self) -> None:
        """Flush pending implicit reviews (called when the engram stops)."""
        await self.reviews.flush()

    def close(self) -> None:
        """Release the graph executor."""
        self.ranker.close()
