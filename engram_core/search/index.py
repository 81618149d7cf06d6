"""The in-memory vector index: one float32 matrix per user, loaded lazily, kept current incrementally.

A user's index holds the vectors of their *indexable* memories: latest version, not forgotten, not in
the trash, not consolidated, embedded with the current model (``embedding_model`` equals the embedder's
fingerprint). Archived and pending memories stay in the index; the search filters (applied in SQL by the
vector channel) decide whether they are shown.

Keeping it current without blocking anything:

* ``mark_dirty(user_id, ids)`` is the ``memories.on_write`` hook: it only records the ids (O(1), safe on
  the event loop).
* ``sync(conn, user_id)`` runs at the start of a search, on a read connection: the first time it loads
  the user's vectors; afterwards it re-reads only the dirty ids' rows and adds, replaces or removes them.
  The dirty set is taken *before* the first read of the snapshot, so a write committed before its hook
  fired is always visible to the re-read, and a later one is marked dirty again for the next search.

Scoring is a matrix-vector product (vectors are L2-normalised, so the dot product is the cosine). The
index is never rebuilt per query; removal swaps the last row into the hole. Each user's index has its own
lock, so searches of different users never wait on each other. LanceDB ANN is not implemented (see
``BENCHMARKS.md``): at the target sizes the exact product is fast enough.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from typing import Any

import numpy as np

__all__ = ["INDEXABLE", "UserIndex", "VectorIndex", "decode_vector"]

INDEXABLE = (
    "m.is_latest = 1 AND m.is_forgotten = 0 AND m.is_deleted = 0 AND m.is_consolidated = 0"
    " AND m.embedding IS NOT NULL AND m.embedding_model = :model"
)


def decode_vector(blob: bytes | None, dim: int) -> np.ndarray | None:
    """A stored float32 little-endian blob as a vector of ``dim``, or None if absent or the wrong size."""
    if blob is None or len(blob) != 4 * dim:
        return None
    return np.frombuffer(blob, dtype="<f4").astype(np.float32, copy=False)


class UserIndex:
    """One user's vectors: ``ids[i]`` owns row ``i`` of ``matrix`` (the first ``size`` rows are live)."""

    def __init__(self, dim: int) -> None:
        self.dim = dim
        self.lock = threading.Lock()
        self.loaded = False
        self.size = 0
        self.matrix = np.zeros((0, dim), dtype=np.float32)
        self.ids = np.zeros(0, dtype=np.int64)
        self.row_of: dict[int, int] = {}
        self.dirty: set[int] = set()
        self.dirty_lock = threading.Lock()  # separate, so marking never waits for a load

    def take_dirty(self) -> list[int]:
        """The ids marked since the last call, sorted; the set is emptied."""
        with self.dirty_lock:
            dirty = sorted(self.dirty)
            self.dirty.clear()
        return dirty

    def _grow(self, need: int) -> None:
        if need <= self.matrix.shape[0]:
            return
        capacity = max(need, 2 * self.matrix.shape[0], 64)
        matrix = np.zeros((capacity, self.dim), dtype=np.float32)
        matrix[: self.size] = self.matrix[: self.size]
        ids = np.zeros(capacity, dtype=np.int64)
        ids[: self.size] = self.ids[: self.size]
        self.matrix, self.ids = matrix, ids

    def put(self, memory_id: int, vector: np.ndarray) -> None:
        """Add or replace one vector."""
        row = self.row_of.get(memory_id)
        if row is None:
            self._grow(self.size + 1)
            row = self.size
            self.size += 1
            self.row_of[memory_id] = row
            self.ids[row] = memory_id
        self.matrix[row] = vector

    def remove(self, memory_id: int) -> None:
        """Drop one vector (no-op if absent): the last row moves into its place."""
        row = self.row_of.pop(memory_id, None)
        if row is None:
            return
        last = self.size - 1
        if row != last:
            moved = int(self.ids[last])
            self.matrix[row] = self.matrix[last]
            self.ids[row] = moved
            self.row_of[moved] = row
        self.size = last

    def top(self, query: np.ndarray, n: int) -> list[tuple[int, float]]:
        """The ``n`` most similar ``(memory_id, cosine)``, best first (caller holds the lock)."""
        if self.size == 0 or n <= 0:
            return []
        # einsum runs single-threaded: multithreaded BLAS gemv is slower on a busy 2-core machine.
        scores = np.einsum("ij,j->i", self.matrix[: self.size], query)
        n = min(n, self.size)
        part = np.argpartition(-scores, n - 1)[:n] if n < self.size else np.arange(self.size)
        order = part[np.argsort(-scores[part], kind="stable")]
        return [(int(self.ids[i]), float(scores[i])) for i in order]


class VectorIndex:
    """Every user's :class:`UserIndex`, for one embedding model (fingerprint ``model``, ``dim``)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._users: dict[int, UserIndex] = {}
        self.model: str | None = None
        self.dim = 0

    def _user(self, user_id: int) -> UserIndex:
        with self._lock:
            index = self._users.get(user_id)
            if index is None:
                index = self._users[user_id] = UserIndex(self.dim)
            return index

    def use_model(self, model: str, dim: int) -> None:
        """Switch to another embedding model: every user's index is dropped and reloads on demand."""
        with self._lock:
            if model != self.model or dim != self.dim:
                self.model, self.dim = model, dim
                self._users.clear()

    def mark_dirty(self, user_id: int, ids: Iterable[int]) -> None:
        """Record that these memories changed (the ``memories.on_write`` hook; cheap, never reads)."""
        with self._lock:
            index = self._users.get(user_id)
        if index is not None:
            with index.dirty_lock:
                index.dirty.update(int(i) for i in ids)

    def reset(self) -> None:
        """Drop every user's index (after a bulk re-embed); each reloads lazily on its next search."""
        with self._lock:
            self._users.clear()

    def forget_user(self, user_id: int) -> None:
        """Drop a user's index (it reloads lazily)."""
        with self._lock:
            self._users.pop(user_id, None)

    def sync(self, conn: Any, user_id: int) -> UserIndex:
        """Load (first time) or refresh (dirty ids) a user's index over ``conn``; returns it.

        Must run before any other read of the same snapshot (see the module docstring).
        """
        index = self._user(user_id)
        with index.lock:
            dirty = index.take_dirty()
            if not index.loaded:
                self._load(conn, user_id, index)
                index.loaded = True
            elif dirty:
                self._refresh(conn, user_id, index, dirty)
        return index

    def _load(self, conn: Any, user_id: int, index: UserIndex) -> None:
        rows = conn.execute(
            f"SELECT m.id, m.embedding FROM memories m WHERE m.user_id = :user AND {INDEXABLE}",
            {"user": user_id, "model": self.model},
        ).fetchall()
        good: list[tuple[int, np.ndarray]] = []
        for r in rows:
            vector = decode_vector(r[1], self.dim)
            if vector is not None:
                good.append((int(r[0]), vector))
        index._grow(len(good))
        for memory_id, vector in good:
            index.put(memory_id, vector)

    def _refresh(self, conn: Any, user_id: int, index: UserIndex, ids: list[int]) -> None:
        rows = conn.execute(
            "SELECT m.id, m.embedding FROM json_each(:ids) j CROSS JOIN memories m ON m.id = j.value"
            f" WHERE m.user_id = :user AND {INDEXABLE}",
            {"user": user_id, "model": self.model, "ids": _json_ids(ids)},
        ).fetchall()
        present = {int(r[0]): decode_vector(r[1], self.dim) for r in rows}
        for memory_id in ids:
            vector = present.get(memory_id)
            if vector is None:
                index.remove(memory_id)
            else:
                index.put(memory_id, vector)

    def size(self, user_id: int) -> int:
        """How many vectors the user's index holds now (0 when not loaded)."""
        with self._lock:
            index = self._users.get(user_id)
        return index.size if index is not None else 0


def _json_ids(ids: Iterable[int]) -> str:
    return "[" + ",".join(str(int(i)) for i in ids) + "]"
