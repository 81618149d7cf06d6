"""broca: the action log of an agent team, narrated, and searchable by question."""

from __future__ import annotations

from .service import ActionLog

__all__ = ["ActionLog"]
