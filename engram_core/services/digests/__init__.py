"""Digests: summaries of a period's memories and activity, stored, and delivered as ``digest.generated``."""

from __future__ import annotations

from .service import Digests

__all__ = ["Digests"]
