"""Agent conveniences over the memory store: preferences, per-agent state, packing memories into a token
budget (``/pack``, ``/prompt``) and batches of writes (``/batch``)."""

from __future__ import annotations

from collections.abc import Callable

from ..storage.database import Database
from .batch import BatchService, Links, Memories
from .kv import KeyValueStore
from .pack import Packer, Search

__all__ = ["Toolkit"]


class Toolkit:
    """Owned by the Engram facade (``engram.toolkit``); takes the services it uses."""

    def __init__(
        self, db: Database, memories: Memories, links: Links, search: Search, count_tokens: Callable[[str], int]
    ) -> None:
        self.preferences = KeyValueStore(db, "user_preferences")
        self.state = KeyValueStore(db, "agent_state", scope="agent")
        self.packer = Packer(db, search, count_tokens)
        self.batch = BatchService(memories, links)
