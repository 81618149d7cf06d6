"""Webhooks: signed deliveries of a user's events from a durable retry queue, with dead letters."""

from __future__ import annotations

from .sender import sign
from .service import WebhookService

__all__ = ["WebhookService", "sign"]
