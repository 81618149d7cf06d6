"""The in-memory vector index: one float32 matrix per user, loaded lazily, kept current incrementally.

A user's index holds the vectors of their *indexable* memories: latest version, not forgotten, not in
the trash, not consolidated, embedded with the current model (``embedding_model`` equals the embedder's
fingerprint). Archived and pending memories stay in the index; the search filters (applied in SQL by the
vector channel) decide whether they are shown.

Keeping it current without blocking anything:

* ``mark_dirty(user_id, ids)`` is called from the change feed (write thread, after COMMIT): it only
  records the ids (O(1), thread-safe).
* ``sync(conn, user_id)`` runs at the start of a search, on a read connection: the first time it loads
  the user's vectors; afterwards it re-reads only the dirty ids' rows and adds, replaces or removes them.
  The dirty set is taken *before* the first read of the snapshot, so a write committed before its hook
  fired is always visible to the re-read, and a later one is marked dirty again for the next search.

Scoring is a matrix-vector product (vectors are L2-normalised, so the dot product is the cosine). The
index is never rebuilt per query; removal swaps the last row into the hole. Each user's index has its own
lock, so searches of different users never wait on each other.

Locks: each index has a ``lock`` (searches, loads, swaps) and a ``dirty_lock`` (always innermost);
``VectorIndex._lock`` guards the registry and is held briefly. A user's LanceDB *table lock* is held by
maintenance while it writes that user's table (then it takes the index's ``lock`` to flush or promote)
and by a search while it reopens the table (inside the ``lock`` of an index that is unloaded or stale).
The two never wait on each other: maintenance skips unloaded, stale and replaced indexes.

Large users: with ``ENGRAM_USE_LANCE_INDEX`` on, :meth:`VectorIndex.maintain` (periodic, off the request
path) moves a user whose index passes ``ENGRAM_LANCE_THRESHOLD`` vectors to a LanceDB table with an ANN
index (:mod:`engram_core.vector_index.ann`) and drops the matrix; on restart such a user opens the table instead
of loading every vector. Callers see the same interface either way.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

import numpy as np

from ..model.memories import ACTIVE

if TYPE_CHECKING:
    from .ann import AnnStore, AnnUserIndex

__all__ = ["INDEXABLE", "UserIndex", "VectorIndex", "best", "decode_vector"]

log = logging.getLogger("engram.search")

INDEXABLE = ACTIVE + " AND m.embedding IS NOT NULL AND m.embedding_model = :model"


def decode_vector(blob: bytes | None, dim: int) -> np.ndarray | None:
    """A stored float32 little-endian blob as a vector of ``dim``, or None if absent or the wrong size."""
    if blob is None or len(blob) != 4 * dim:
        return None
    return np.frombuffer(blob, dtype="<f4").astype(np.float32, copy=False)


class UserIndex:
    """One user's vectors: ``ids[i]`` owns row ``i`` of ``matrix`` (the first ``size`` rows are live)."""

    exact = True  # top() ranks every vector
    kind = "memory"

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
        self.successor: Any = None  # the index that replaced this one in VectorIndex (a LanceDB one)
        self.touched: set[int] | None = None  # ids changed while a LanceDB copy is being built

    def take_dirty(self) -> list[int]:
        """The ids marked since the last call, sorted; the set is emptied."""
        with self.dirty_lock:
            dirty = sorted(self.dirty)
            self.dirty.clear()
        return dirty

    def _grow(self, need: int) -> None:
        if need <= self.matrix.shape[0]:
            return
        capacity = max(need, self.matrix.shape[0] * 5 // 4, 64)  # +25%: a 100k matrix is 150 MiB
        matrix = np.zeros((capacity, self.dim), dtype=np.float32)
        matrix[: self.size] = self.matrix[: self.size]
        ids = np.zeros(capacity, dtype=np.int64)
        ids[: self.size] = self.ids[: self.size]
        self.matrix, self.ids = matrix, ids

    def put(self, memory_id: int, vector: np.ndarray) -> None:
        """Add or replace one vector."""
        if self.touched is not None:
            self.touched.add(memory_id)
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
        if self.touched is not None:
            self.touched.add(memory_id)
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

    def scores(self, query: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``(ids, cosines)`` of every vector, unordered (caller holds the lock; the ids are a copy)."""
        # einsum runs single-threaded: multithreaded BLAS gemv is slower on a busy 2-core machine.
        return self.ids[: self.size].copy(), np.einsum("ij,j->i", self.matrix[: self.size], query)

    def top(self, query: np.ndarray, n: int, conn: Any = None) -> list[tuple[int, float]]:
        """The ``n`` most similar ``(memory_id, cosine)``, best first (caller holds the lock; ``conn`` unused)."""
        if self.size == 0 or n <= 0:
            return []
        return best(*self.scores(query), n)


def best(ids: np.ndarray, scores: np.ndarray, n: int) -> list[tuple[int, float]]:
    """The ``n`` highest ``scores`` as ``(id, score)``, best first (ties keep their order): always the first
    ``n`` of the whole ranking, so a wider call extends a narrower one (the vector channel relies on it)."""
    n = min(n, len(scores))
    if n <= 0:
        return []
    part = np.arange(len(scores))
    if n < len(scores):  # those above the n-th best score, then the first of those equal to it
        kth = np.partition(scores, len(scores) - n)[len(scores) - n]
        above = np.flatnonzero(scores > kth)
        part = np.concatenate([above, np.flatnonzero(scores == kth)[: n - len(above)]])
    order = part[np.argsort(-scores[part], kind="stable")]
    return [(int(ids[i]), float(scores[i])) for i in order]


class VectorIndex:
    """Every user's index, for one embedding model (fingerprint ``model``, ``dim``).

    Args:
        ann: Where large users' LanceDB tables live, or None to keep every user in memory.
        threshold: Vectors at or above which :meth:`maintain` moves a user to LanceDB.
    """

    def __init__(self, ann: AnnStore | None = None, threshold: int = 50_000) -> None:
        self._lock = threading.Lock()
        self._users: dict[int, UserIndex | AnnUserIndex] = {}
        self.model: str | None = None
        self.dim = 0
        self.ann = ann
        self.threshold = threshold
        self._swept_model: str | None = None  # the model whose stale LanceDB tables were last dropped
        # Per user: held while maintenance writes a user's LanceDB table and while a search reopens it,
        # so a reopen never reads the table half-way through a flush of the index it replaces.
        self._table_locks: dict[int, threading.Lock] = {}

    def _table_lock(self, user_id: int) -> threading.Lock:
        with self._lock:
            return self._table_locks.setdefault(user_id, threading.Lock())

    def _user(self, user_id: int) -> UserIndex | AnnUserIndex:
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
        """Record that these memories changed (from the change feed; cheap, never reads)."""
        with self._lock:  # held while marking, so a swap to a LanceDB index never loses a mark
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

    def sync(self, conn: Any, user_id: int) -> UserIndex | AnnUserIndex:
        """Load (first time) or refresh (dirty ids) a user's index over ``conn``; returns it.

        Must run before any other read of the same snapshot (see the module docstring).
        """
        index = self._user(user_id)
        with index.lock:
            if index.successor is not None:  # replaced while this caller waited
                return self.sync(conn, user_id)
            if getattr(index, "stale", False):  # a LanceDB flush failed half-way: reopen and reconcile
                index.loaded = False
            dirty = index.take_dirty()
            if not index.loaded and self.ann is not None and self.model:
                # Under the user's table lock: maintenance never writes the table between the reconcile's
                # read and the swap (it skips indexes no longer registered once it gets the lock).
                with self._table_lock(user_id):
                    opened = self._open_ann(conn, user_id)
                    if opened is not None:
                        with self._lock:
                            if self._users.get(user_id) is index:  # not reset meanwhile
                                self._users[user_id] = opened
                                index.successor = opened
                            with index.dirty_lock:  # marks that came after the reconcile's read
                                opened.dirty, index.dirty = index.dirty, set()
                        return opened
            if not index.loaded:
                if isinstance(index, UserIndex):
                    self._load(conn, user_id, index)
                    index.loaded = True
                else:  # a LanceDB index that went stale and whose table is gone: start again in memory
                    with self._lock:
                        index.successor = self._users[user_id] = UserIndex(self.dim)
                    return self.sync(conn, user_id)
            elif dirty:
                self._refresh(conn, user_id, index, dirty)
        return index

    def _load(self, conn: Any, user_id: int, index: UserIndex) -> None:
        params = {"user": user_id, "model": self.model}
        # Sized first and streamed: no list of every row's blob, no capacity doubling (at 100k vectors
        # that was 330 MiB of peak RSS for a 150 MiB matrix).
        count = conn.execute(f"SELECT count(*) FROM memories m WHERE m.user_id = :user AND {INDEXABLE}", params)
        index._grow(int(count.fetchone()[0]))
        rows = conn.execute(f"SELECT m.id, m.embedding FROM memories m WHERE m.user_id = :user AND {INDEXABLE}", params)
        for r in rows:
            vector = decode_vector(r[1], self.dim)
            if vector is not None:
                index.put(int(r[0]), vector)

    def _refresh(self, conn: Any, user_id: int, index: UserIndex | AnnUserIndex, ids: list[int]) -> None:
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

    # -- LanceDB ---------------------------------------------------------------------------------------
    def _open_ann(self, conn: Any, user_id: int) -> AnnUserIndex | None:
        """The user's LanceDB table reconciled with SQLite, or None when the user has none."""
        from .ann import AnnStore, AnnUserIndex

        assert self.ann is not None and self.model is not None
        try:
            table = self.ann.open(user_id, self.model)
            if table is None:
                return None
            table_ids = AnnStore.ids(table)
        except Exception:  # a damaged table is derived data: rebuild it from SQLite later
            log.exception("LanceDB table of user %s unreadable; serving from memory", user_id)
            return None
        index = AnnUserIndex(table, user_id, self.dim, table_ids, self.ann.index_min_rows)
        live = {
            int(r[0])
            for r in conn.execute(
                f"SELECT m.id FROM memories m WHERE m.user_id = :user AND {INDEXABLE}",
                {"user": user_id, "model": self.model},
            )
        }
        for memory_id in table_ids - live:
            index.remove(memory_id)
        missing = sorted(live - table_ids)
        for start in range(0, len(missing), 10_000):
            self._refresh(conn, user_id, index, missing[start : start + 10_000])
        return index

    def purge(self, user_id: int, ids: Iterable[int]) -> bool:
        """Take purged memories' vectors out of the user's LanceDB files now (blocking: run it in a worker
        thread); True when a table held any. An in-memory index is not a file: the write hook handles it."""
        if self.ann is None or self.model is None:
            return False
        from .ann import AnnUserIndex, compact_away

        wanted = [int(i) for i in ids]
        with self._table_lock(user_id):
            with self._lock:
                index = self._users.get(user_id)
            if isinstance(index, AnnUserIndex) and index.successor is None and not index.stale:
                return index.purge(wanted)
            if isinstance(index, UserIndex) and index.loaded:
                return False  # loaded from SQLite because the user had no table; promotion holds this lock
            table = self.ann.open(user_id, self.model)  # not loaded (or stale): the table on disk
            if table is None or not wanted:
                return False
            table.delete("id IN (" + ",".join(map(str, wanted)) + ")")
            compact_away(table)
            return True

    def maintain(self) -> dict[str, int]:
        """Periodic LanceDB upkeep (blocking: run it in a worker thread).

        Moves users at or past the threshold to LanceDB, writes each LanceDB user's overlay into their
        table, folds the new rows into the ANN index and compacts. Returns counts of what it did.
        """
        done = {"promoted": 0, "flushed": 0, "dropped_tables": 0}
        if self.ann is None or self.model is None:
            return done
        model = self.model
        if self._swept_model != model:
            done["dropped_tables"] = self.ann.drop_other_models(model)
            self._swept_model = model
        with self._lock:
            users = list(self._users.items())
        for user_id, index in users:
            try:
                with self._table_lock(user_id):
                    with self._lock:
                        current = self._users.get(user_id) is index
                    if not current or index.successor is not None or getattr(index, "stale", False):
                        continue  # replaced, reset or to be reopened since the list was taken
                    if isinstance(index, UserIndex):
                        if index.loaded and index.size >= self.threshold and self._promote(user_id, index, model):
                            done["promoted"] += 1
                    elif index.flush():
                        done["flushed"] += 1
                        index.optimize()
            except Exception:  # logged; the user keeps being served, the next pass retries
                log.exception("LanceDB maintenance of user %s failed", user_id)
        return done

    def _promote(self, user_id: int, index: UserIndex, model: str) -> bool:
        """Copy a big in-memory user to a new LanceDB table, then swap it in (changes meanwhile carried)."""
        from .ann import AnnUserIndex

        assert self.ann is not None
        with index.lock:
            ids = index.ids[: index.size].copy()
            vectors = index.matrix[: index.size].copy()
            index.touched = set()
        try:
            table = self.ann.create(user_id, model, ids, vectors)  # slow (index build): no lock held
        except BaseException:
            with index.lock:
                index.touched = None
            raise
        with self._lock, index.lock:
            touched, index.touched = index.touched or set(), None
            if self._users.get(user_id) is not index or self.model != model:
                return False  # reset or model switch meanwhile: the next pass decides again
            ann = AnnUserIndex(table, user_id, self.dim, (int(i) for i in ids), self.ann.index_min_rows)
            for memory_id in touched:
                row = index.row_of.get(memory_id)
                if row is None:
                    ann.remove(memory_id)
                else:
                    ann.put(memory_id, index.matrix[row])
            with index.dirty_lock:
                ann.dirty, index.dirty = index.dirty, set()
            self._users[user_id] = ann
            index.successor = ann
        log.info("user %s: %d vectors moved to LanceDB", user_id, len(ids))
        return True

    def kind(self, user_id: int) -> str:
        """``memory`` or ``lancedb``: where the user's index lives now (``memory`` when not loaded)."""
        with self._lock:
            index = self._users.get(user_id)
        return index.kind if index is not None else "memory"

    def size(self, user_id: int) -> int:
        """How many vectors the user's index holds now (0 when not loaded)."""
        with self._lock:
            index = self._users.get(user_id)
        return index.size if index is not None else 0


def _json_ids(ids: Iterable[int]) -> str:
    return "[" + ",".join(str(int(i)) for i in ids) + "]"
