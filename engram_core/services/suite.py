"""``Services``: the coordination services of one Engram instance, built and started together."""

from __future__ import annotations

import asyncio

from ..jobs.scheduler import Scheduler
from ..settings import Settings
from ..storage.database import Database
from .activity import ActivityService, Remember
from .axon import AxonService
from .broca import ActionLog
from .chiasm import TaskService
from .loom import Workflows
from .memory_events import MemoryEvents
from .soma import AgentRegistry
from .soma.service import heartbeat_tx
from .webhooks import WebhookService

__all__ = ["Services"]

AXON_PRUNE_SECONDS = 3600.0


class Services:
    """axon and the services that publish through it; periodic upkeep goes on the shared scheduler."""

    def __init__(
        self, db: Database, settings: Settings, scheduler: Scheduler, remember: Remember | None = None
    ) -> None:
        self.db = db
        self.settings = settings
        self.axon = AxonService(db, settings)
        self.webhooks = WebhookService(db, settings)
        self.axon.in_publish_tx(self.webhooks.enqueue_tx)
        self.axon.on_committed(self.webhooks.committed)
        self.memory_events = MemoryEvents(db, self.axon)  # memory.* and contradiction.detected on "system"
        self.tasks = TaskService(db, self.axon)
        self.broca = ActionLog(db, self.axon)
        self.soma = AgentRegistry(db, settings, self.axon)
        self.activity = ActivityService(self.axon, remember, heartbeat_tx)
        self.loom = Workflows(db, self.axon)
        scheduler.every("axon_prune", AXON_PRUNE_SECONDS, self.axon.prune)
        scheduler.every("soma_offline", settings.services_tick_seconds, self.soma.mark_offline)
        scheduler.every("loom_timeouts", settings.services_tick_seconds, self.loom.check_timeouts)

    async def start(self) -> None:
        self.axon.hub.bind(asyncio.get_running_loop())
        await self.webhooks.start()
        await self.memory_events.start()

    async def stop(self) -> None:
        await self.memory_events.stop()
        await self.webhooks.stop()
