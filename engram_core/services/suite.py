"""``Services``: the coordination services of one Engram instance, built and started together."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from ..jobs.scheduler import Scheduler
from ..llm.client import LlmClient
from ..settings import Settings
from ..storage.database import Database
from .activity import ActivityService, Remember
from .axon import AxonService
from .brain import Brain
from .brain.service import Recalled, Search
from .broca import ActionLog
from .chiasm import TaskService
from .digests import Digests
from .loom import Workflows
from .memory_events import MemoryEvents
from .soma import AgentRegistry
from .soma.service import heartbeat_tx
from .thymus import Quality
from .webhooks import WebhookService

__all__ = ["Hooks", "Services"]

AXON_PRUNE_SECONDS = 3600.0


@dataclass(frozen=True)
class Hooks:
    """What the services use from the rest of Engram: storing a memory, searching, an implicit review."""

    remember: Remember | None = None
    search: Search | None = None
    recalled: Recalled | None = None
    llm: LlmClient | None = None


class Services:
    """axon and the services that publish through it; periodic upkeep goes on the shared scheduler."""

    def __init__(self, db: Database, settings: Settings, scheduler: Scheduler, hooks: Hooks | None = None) -> None:
        hooks = hooks or Hooks()
        self.db = db
        self.settings = settings
        self.axon = AxonService(db, settings)
        self.webhooks = WebhookService(db, settings)
        self.axon.in_publish_tx(self.webhooks.enqueue_tx)
        self.axon.on_committed(self.webhooks.committed)
        self.memory_events = MemoryEvents(db, self.axon)  # memory.* and contradiction.detected on "system"
        self.tasks = TaskService(db, self.axon)
        self.broca = ActionLog(db, self.axon, hooks.llm)
        self.soma = AgentRegistry(db, settings, self.axon)
        self.activity = ActivityService(self.axon, hooks.remember, heartbeat_tx)
        self.loom = Workflows(db, self.axon)
        self.thymus = Quality(db, hooks.llm, self.axon)
        self.brain = Brain(db, hooks.search, hooks.recalled)
        self.digests = Digests(db, self.axon, hooks.llm)
        scheduler.every("axon_prune", AXON_PRUNE_SECONDS, self.axon.prune)
        scheduler.every("soma_offline", settings.services_tick_seconds, self.soma.mark_offline)
        scheduler.every("loom_timeouts", settings.services_tick_seconds, self.loom.check_timeouts)
        if settings.digest_interval_seconds > 0:
            scheduler.every("digests", settings.digest_interval_seconds, self.digests.scheduled)

    async def start(self) -> None:
        self.axon.hub.bind(asyncio.get_running_loop())
        await self.webhooks.start()
        await self.memory_events.start()

    async def stop(self) -> None:
        await self.memory_events.stop()
        await self.webhooks.stop()
