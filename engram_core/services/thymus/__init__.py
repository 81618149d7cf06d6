"""thymus: quality rubrics, evaluations scored against them (by an agent or the optional LLM), metrics."""

from __future__ import annotations

from .service import Quality

__all__ = ["Quality"]
