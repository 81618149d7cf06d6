"""The thin HTTP layer over engram_core: parse, call one core function, shape JSON."""

from __future__ import annotations

from .app import create_app

__all__ = ["create_app"]
