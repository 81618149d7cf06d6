"""axon: the event bus. Events are rows; polling cursors and SSE streams read them back."""

from __future__ import annotations

from .hub import Hub, Subscriber
from .service import AxonService, Publisher

__all__ = ["AxonService", "Hub", "Publisher", "Subscriber"]
