"""Memory in the loop: the chat proxy, retrieval logs, working-memory sessions, scratchpad and inbox."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .inbox import InboxService
from .logs import RetrievalLogs
from .scratch import ScratchService
from .service import ProxyService
from .sessions import SessionService

if TYPE_CHECKING:
    from ..engram import Engram

__all__ = ["WorkingMemory"]

LOG_PURGE_SECONDS = 3600.0


class WorkingMemory:
    """The services of issue 14, owned by the Engram facade (``engram.working``)."""

    def __init__(self, engram: Engram) -> None:
        self.logs = RetrievalLogs(engram.db, engram.settings.retrieval_log_retention_days)
        self.proxy = ProxyService(engram)
        self.sessions = SessionService(engram)
        self.scratch = ScratchService(engram)
        self.inbox = InboxService(engram)
        engram.scheduler.every("retrieval_log_purge", LOG_PURGE_SECONDS, self.logs.purge)
        engram.scheduler.every("scratch_purge", engram.settings.scratch_sweep_seconds, self.scratch.purge)

    async def close(self) -> None:
        await self.sessions.settle()
        await self.proxy.close()
