"""``Services``: the coordination services of one Engram instance, built and started together."""

from __future__ import annotations

import asyncio

from ..jobs.scheduler import Scheduler
from ..settings import Settings
from ..storage.database import Database
from .axon import AxonService
from .webhooks import WebhookService

__all__ = ["Services"]

AXON_PRUNE_SECONDS = 3600.0


class Services:
    """axon and the services that publish through it; periodic upkeep goes on the shared scheduler."""

    def __init__(self, db: Database, settings: Settings, scheduler: Scheduler) -> None:
        self.db = db
        self.settings = settings
        self.axon = AxonService(db, settings)
        self.webhooks = WebhookService(db, settings)
        self.axon.in_publish_tx(self.webhooks.enqueue_tx)
        self.axon.on_committed(self.webhooks.committed)
        scheduler.every("axon_prune", AXON_PRUNE_SECONDS, self.axon.prune)

    async def start(self) -> None:
        self.axon.hub.bind(asyncio.get_running_loop())
        await self.webhooks.start()

    async def stop(self) -> None:
        await self.webhooks.stop()
