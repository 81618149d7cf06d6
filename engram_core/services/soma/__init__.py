"""soma: the agent registry (capabilities, heartbeats, offline marking) and groups."""

from __future__ import annotations

from .service import AgentRegistry

__all__ = ["AgentRegistry"]
