"""brain: stats and a query across memories and the coordination services."""

from __future__ import annotations

from .service import Brain

__all__ = ["Brain"]
