"""What the chat proxy, sessions, scratchpad and inbox are built over: the services they call.

The facade builds one ``ProxyDeps`` and hands it to each service, so this package depends on the services
it uses (search, memories, embeddings, extraction) and never on the facade that composes them.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..embeddings.manager import EmbeddingManager
from ..intelligence.extract import ExtractService
from ..memories.service import MemoryService
from ..search.service import SearchService
from ..settings import Settings
from ..storage.database import Database
from .logs import RetrievalLogs

__all__ = ["ProxyDeps"]


@dataclass(frozen=True)
class ProxyDeps:
    db: Database
    settings: Settings
    search: SearchService
    memories: MemoryService
    vectors: EmbeddingManager
    extract: ExtractService  # /add's conversation extraction (proxy exchanges, sessions' old messages)
    logs: RetrievalLogs  # every retrieval the proxy and sessions make (GET /logs)
