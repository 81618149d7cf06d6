"""The guardrail, extraction, reflection, consolidation, health, feedback and causal-chain services of one Engram.

``IntelligenceServices(db, settings, ...)`` builds them over the database, embedding manager, memory
service, search and optional LLM it is given; the routes reach them as ``engram.intel``.
"""

from __future__ import annotations

from ..embeddings.manager import EmbeddingManager
from ..llm.client import LlmClient
from ..memories.service import MemoryService
from ..search.service import SearchService
from ..settings import Settings
from ..storage.database import Database
from .causal_chains import CausalService
from .consolidate import ConsolidateService
from .extract import ExtractService
from .feedback import FeedbackService
from .growth_reflect import GrowthReflector
from .guard import GuardService
from .health import MemoryHealthService
from .reflect import ReflectService

__all__ = ["IntelligenceServices"]


class IntelligenceServices:
    def __init__(
        self,
        db: Database,
        settings: Settings,
        *,
        vectors: EmbeddingManager,
        memories: MemoryService,
        search: SearchService,
        llm: LlmClient,
    ) -> None:
        self.guard = GuardService(db, vectors)
        self.extract = ExtractService(db, llm, memories, vectors, search.index)
        self.feedback = FeedbackService(db)
        self.consolidation = ConsolidateService(db, llm, memories, vectors)
        self.reflection = ReflectService(db, llm, memories, search)
        self.growth_reflection = GrowthReflector(db, llm, memories)
        self.health = MemoryHealthService(db, settings)
        self.causal = CausalService(db)
