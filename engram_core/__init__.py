"""Engram: a single-process cognitive memory server for LLM agents.

``engram_core`` holds all behaviour (storage, memories, search, models, auth); ``engram_server`` is a thin
HTTP layer over it.
"""

from __future__ import annotations

__version__ = "0.1.0"
__all__ = ["__version__"]
