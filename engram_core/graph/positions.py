"""Graph layouts kept per user and graph: ``/graph?positions=true`` lays a graph out once (on the graph
executor), then answers from here until the user's graph changes.

The key is the user plus a digest of exactly what the layout reads (node ids and communities in order, the
links among them), so any change to the graph (a link, a memory, new communities, another filter) is a new
key and can never be answered with a stale picture; old keys age out (least recently used first).
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Sequence

__all__ = ["LayoutCache", "Positions"]

Positions = dict[int, tuple[float, float]]
Key = tuple[int, str]


class LayoutCache:
    """Least-recently-used layouts, at most ``size`` of them across users."""

    def __init__(self, size: int = 64) -> None:
        self.size = size
        self._items: OrderedDict[Key, Positions] = OrderedDict()
        self._lock = threading.Lock()

    @staticmethod
    def key(user_id: int, nodes: Sequence[tuple[int, int | None]], edges: Sequence[tuple[int, int]]) -> Key:
        digest = hashlib.blake2b(repr((list(nodes), sorted(edges))).encode(), digest_size=16).hexdigest()
        return (user_id, digest)

    def __len__(self) -> int:
        return len(self._items)

    def get(self, key: Key) -> Positions | None:
        with self._lock:
            found = self._items.get(key)
            if found is not None:
                self._items.move_to_end(key)
            return found

    def put(self, key: Key, positions: Positions) -> None:
        with self._lock:
            self._items[key] = positions
            self._items.move_to_end(key)
            while len(self._items) > self.size:
                self._items.popitem(last=False)
