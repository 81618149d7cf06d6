"""loom: workflows of steps with dependencies, runs, step callbacks, retries and timeouts."""

from __future__ import annotations

from .service import Workflows

__all__ = ["Workflows"]
