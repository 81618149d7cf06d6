"""A per-user cache of search responses, invalidated by any write of that user.

Keys are the route and the validated request (canonical JSON). Each user has an LRU of at most
``size`` entries; entries also expire after ``ttl`` seconds, because relative dates in a query
("yesterday") and TTL expiry move with the clock. ``invalidate(user_id)`` is called by the search
service's change-feed listener on the write thread, after the COMMIT and before the writer is answered,
so a user never sees a result older than their own last write; it also bumps the user's generation, so
a search that started before the write cannot store its now stale result. Searches use it from the
event loop, the listener from the write thread: a lock makes each operation atomic (cached values are
never mutated, so copies are made outside it).
"""

from __future__ import annotations

import copy
import json
import threading
import time
from collections import OrderedDict
from typing import Any

__all__ = ["ResultCache"]


class ResultCache:
    """LRU + TTL cache of JSON-ready responses, one LRU per user."""

    def __init__(self, size: int, ttl: float = 60.0) -> None:
        self.size = max(0, size)
        self.ttl = ttl
        self._users: dict[int, OrderedDict[str, tuple[float, Any]]] = {}
        self._generation: dict[int, int] = {}
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    @staticmethod
    def key(kind: str, request: dict[str, Any]) -> str:
        """A stable key for one validated request."""
        return kind + ":" + json.dumps(request, sort_keys=True, default=str)

    def get(self, user_id: int, key: str) -> Any | None:
        """A copy of the cached response, or None."""
        with self._lock:
            entries = self._users.get(user_id)
            item = entries.get(key) if entries is not None else None
            if item is None or time.monotonic() - item[0] > self.ttl:
                if item is not None and entries is not None:
                    entries.pop(key, None)
                self.misses += 1
                return None
            entries.move_to_end(key)  # type: ignore[union-attr]
            self.hits += 1
        return copy.deepcopy(item[1])

    def generation(self, user_id: int) -> int:
        """The user's write generation: take it before searching, hand it to :meth:`put`."""
        return self._generation.get(user_id, 0)

    def put(self, user_id: int, key: str, value: Any, generation: int) -> None:
        """Store a copy of ``value`` unless the user wrote since ``generation`` (the result may be stale)."""
        if self.size == 0:
            return
        stored = copy.deepcopy(value)
        with self._lock:
            if generation != self._generation.get(user_id, 0):
                return
            entries = self._users.setdefault(user_id, OrderedDict())
            entries[key] = (time.monotonic(), stored)
            entries.move_to_end(key)
            while len(entries) > self.size:
                entries.popitem(last=False)

    def invalidate(self, user_id: int) -> None:
        """Forget every cached response of the user (any thread)."""
        with self._lock:
            self._users.pop(user_id, None)
            self._generation[user_id] = self._generation.get(user_id, 0) + 1
