"""The guardrail, extraction, reflection, consolidation, health and feedback services of one Engram.

``IntelligenceServices(engram)`` builds them over the engram's database, embedding manager, memory
service and optional LLM; the routes reach them as ``engram.intel``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .consolidate import ConsolidateService
from .extract import ExtractService
from .feedback import FeedbackService
from .guard import GuardService
from .health import MemoryHealthService
from .reflect import ReflectService

if TYPE_CHECKING:
    from ..engram import Engram

__all__ = ["IntelligenceServices"]


class IntelligenceServices:
    def __init__(self, engram: Engram) -> None:
        self.guard = GuardService(engram.db, engram.vectors)
        self.extract = ExtractService(engram)
        self.feedback = FeedbackService(engram.db)
        self.consolidation = ConsolidateService(engram)
        self.reflection = ReflectService(engram)
        self.health = MemoryHealthService(engram.db, engram.settings)
