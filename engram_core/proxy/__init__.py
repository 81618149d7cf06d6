"""Memory in the loop: the chat proxy, retrieval logs, working-memory sessions, scratchpad and inbox."""

from __future__ import annotations

from ..embeddings.manager import EmbeddingManager
from ..intelligence.extract import ExtractService
from ..jobs.scheduler import Scheduler
from ..memories.service import MemoryService
from ..search.service import SearchService
from ..settings import Settings
from ..storage.database import Database
from .deps import ProxyDeps
from .inbox import InboxService
from .logs import RetrievalLogs
from .scratch import ScratchService
from .service import ProxyService
from .sessions import SessionService

__all__ = ["WorkingMemory"]

LOG_PURGE_SECONDS = 3600.0


class WorkingMemory:
    """The chat proxy, retrieval logs, sessions, scratchpad and inbox (the facade's ``engram.working``)."""

    def __init__(
        self,
        db: Database,
        settings: Settings,
        *,
        search: SearchService,
        memories: MemoryService,
        vectors: EmbeddingManager,
        extract: ExtractService,
        scheduler: Scheduler,
    ) -> None:
        self.logs = RetrievalLogs(db, settings.retrieval_log_retention_days)
        deps = ProxyDeps(db, settings, search, memories, vectors, extract, self.logs)
        self.proxy = ProxyService(deps)
        self.sessions = SessionService(deps)
        self.scratch = ScratchService(deps)
        self.inbox = InboxService(deps)
        scheduler.every("retrieval_log_purge", LOG_PURGE_SECONDS, self.logs.purge)
        scheduler.every("scratch_purge", settings.scratch_sweep_seconds, self.scratch.purge)

    async def close(self) -> None:
        await self.sessions.settle()
        await self.proxy.close()
