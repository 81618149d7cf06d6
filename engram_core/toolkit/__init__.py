"""Agent conveniences over the memory store: preferences, per-agent state, packing memories into a token
budget (``/pack``, ``/prompt``), batches of writes (``/batch``) and a coding session's start in one call
(``/hooks/session-start``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from ..storage.database import Database
from .batch import BatchService, Links, Memories
from .kv import KeyValueStore
from .pack import Packer, Search
from .session_start import Episodes, Recall, SessionStart
from .session_start import Memories as MemoryLists

__all__ = ["Toolkit"]


class MemoryService(Memories, MemoryLists, Protocol):
    """What the toolkit uses of the memory service: store, update (batches) and list (session start)."""


class Toolkit:
    """Owned by the Engram facade (``engram.toolkit``); takes the services it uses."""

    def __init__(
        self,
        db: Database,
        memories: MemoryService,
        links: Links,
        search: Search,
        count_tokens: Callable[[str], int],
        recall: Recall,
        episodes: Episodes,
    ) -> None:
        self.preferences = KeyValueStore(db, "user_preferences")
        self.state = KeyValueStore(db, "agent_state", scope="agent")
        self.packer = Packer(db, search, count_tokens)
        self.batch = BatchService(memories, links)
        self.session_start = SessionStart(recall, memories, episodes)
