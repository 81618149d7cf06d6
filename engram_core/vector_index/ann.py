"""LanceDB ANN for users whose corpus passes ``ENGRAM_LANCE_THRESHOLD`` vectors (``ENGRAM_USE_LANCE_INDEX``).

Why: the in-memory index scores every vector per query (11.7 ms at 100k MiniLM vectors, linear in the
corpus) and reads them all at startup (1.1 s at 100k). Past the threshold a user's vectors move to a
LanceDB table under ``<data_dir>/lance`` with an IVF-HNSW-SQ index (cosine) that picks the candidates
(6.2 ms at 100k, recall@10 0.98; reopened in 0.3 s); they are re-scored exactly from their stored
vectors, so the cosines the fusion and the vector floor see are the true ones. The user's matrix is then
dropped. It is not a memory saving below several hundred thousand vectors: LanceDB's runtime and index
cache cost more than a 150 MiB matrix (BENCHMARKS.md).

SQLite stays the source of truth; a table is derived data (delete the directory and it is rebuilt).

Keeping it current: the table is a snapshot. Changes since live in an in-memory overlay: ``delta`` holds
new or replaced vectors (scored exactly), ``hidden`` masks table rows that were replaced or removed. A
search merges the table's hits (minus hidden) with the delta's, so a write is searchable at once.
:meth:`AnnUserIndex.flush` (periodic maintenance, off the request path) writes the overlay into the table,
then :meth:`AnnUserIndex.optimize` folds the new rows into the ANN index and compacts. Deleted rows are
masked at once and leave Lance's files when compaction rewrites their fragment (LanceDB deletion files;
versions older than a minute are dropped). A purge does not wait for that: :meth:`AnnUserIndex.purge`
deletes the rows, rewrites every fragment that has a deleted row and drops every older version at once
(:func:`compact_away`), so a purged memory's vector is gone from the files when the purge answers.

Restart: a table is reopened and reconciled with SQLite by id (ids indexable in SQLite but absent from
the table go to the delta; table ids no longer indexable are hidden). Ids suffice because a memory's
vector under one model never changes in place: an edit makes a new version with a new id.

Encryption: LanceDB files are not encrypted, so :class:`~engram_core.settings.Settings` refuses
``ENGRAM_USE_LANCE_INDEX`` with encryption on, and ``engram db encrypt`` deletes the directory.
"""

from __future__ import annotations

import hashlib
import logging
import os
import threading
from collections.abc import Iterable
from datetime import timedelta
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import Invalid
from .index import UserIndex, decode_vector

__all__ = ["AnnStore", "AnnUserIndex", "compact_away"]

log = logging.getLogger("engram.search")

INDEX_MIN_ROWS = 4096  # below this a table is scanned exactly (an IVF index needs rows to train on)
REFINE = 4  # ANN candidates per result re-scored with the full vectors
EF = 600
"""HNSW search breadth. LanceDB's default gave recall@10 0.53 (0.67 with 2x candidates) on 100k MiniLM
vectors with short, loosely matching queries; 300: 0.96 at 5.8 ms, 600: 0.98 at 7.0 ms, 1000: 0.99 at
7.5 ms (the exact product: 11.8 ms). See BENCHMARKS.md."""
_DELETE_CHUNK = 1000


def _lancedb() -> Any:
    os.environ.setdefault("LANCEDB_LOG", "error")  # LanceDB logs routine events ("creating dataset") as WARN
    import lancedb

    return lancedb


def _arrow(ids: np.ndarray, vectors: np.ndarray) -> Any:
    import pyarrow as pa

    dim = int(vectors.shape[1])
    flat = pa.array(np.ascontiguousarray(vectors, dtype=np.float32).ravel(), type=pa.float32())
    return pa.table(
        {"id": pa.array(np.asarray(ids, dtype=np.int64), type=pa.int64()),
         "vector": pa.FixedSizeListArray.from_arrays(flat, dim)}
    )  # fmt: skip


def compact_away(table: Any) -> None:
    """Rewrite every fragment of ``table`` that has a deleted row and drop every older version now, so
    deleted vectors leave the files (a purge). Plain ``optimize`` keeps a fragment with under 10 % deleted
    rows as it is (a deletion file masks them) and old versions for a grace period."""
    try:
        dataset = table.to_lance()  # pylance: LanceDB's own optimize exposes no deletion threshold
    except ImportError:
        log.warning("pylance is not installed: purged vectors stay in LanceDB files until compaction")
        table.optimize(cleanup_older_than=timedelta(minutes=1))
        return
    dataset.optimize.compact_files(materialize_deletions=True, materialize_deletions_threshold=0.0)
    dataset.cleanup_old_versions(older_than=timedelta(0))
    table.checkout_latest()


class AnnStore:
    """The LanceDB database under ``root``: one table per (user, embedding model)."""

    def __init__(self, root: Path, index_min_rows: int = INDEX_MIN_ROWS) -> None:
        try:
            self._lib = _lancedb()
        except ImportError as exc:
            raise Invalid("ENGRAM_USE_LANCE_INDEX", "needs the lancedb package: pip install 'engram[lance]'") from exc
        self.root = root
        self.index_min_rows = index_min_rows
        self._db: Any = None
        self._lock = threading.Lock()

    def _conn(self) -> Any:
        with self._lock:
            if self._db is None:
                self.root.mkdir(parents=True, exist_ok=True)
                self._db = self._lib.connect(str(self.root))
            return self._db

    @staticmethod
    def table_name(user_id: int, model: str) -> str:
        return f"u{int(user_id)}_{hashlib.sha256(model.encode()).hexdigest()[:16]}"

    def tables(self) -> list[str]:
        db = self._conn()
        names: list[str] = []
        token: str | None = None
        while True:
            page = db.list_tables(page_token=token)
            names.extend(page.tables)
            token = page.page_token
            if not token:
                return names

    def open(self, user_id: int, model: str) -> Any | None:
        """The user's table for ``model``, or None when there is none."""
        name = self.table_name(user_id, model)
        return self._conn().open_table(name) if name in self.tables() else None

    def create(self, user_id: int, model: str, ids: np.ndarray, vectors: np.ndarray) -> Any:
        """Write a user's table (replacing any) and build its ANN index when it is big enough."""
        table = self._conn().create_table(self.table_name(user_id, model), data=_arrow(ids, vectors), mode="overwrite")
        if len(ids) >= self.index_min_rows:
            self.build_index(table)
        return table

    @staticmethod
    def build_index(table: Any) -> None:
        from lancedb.index import IvfHnswSq

        table.create_index("vector", config=IvfHnswSq(distance_type="cosine"), replace=True)

    @staticmethod
    def ids(table: Any) -> set[int]:
        column = table.search().select(["id"]).limit(None).to_arrow().column("id")
        return {int(i) for i in column.to_numpy()}

    def drop_other_models(self, model: str) -> int:
        """Drop every table of a model other than ``model`` (left behind by a model switch)."""
        suffix = "_" + hashlib.sha256(model.encode()).hexdigest()[:16]
        stale = [n for n in self.tables() if not n.endswith(suffix)]
        for name in stale:
            self._conn().drop_table(name)
        return len(stale)


class AnnUserIndex:
    """A large user's vectors: a LanceDB table (snapshot) plus an in-memory overlay of later changes.

    Same interface as :class:`~engram_core.vector_index.index.UserIndex` for its callers (``lock``, ``size``,
    ``top``, ``put``, ``remove``, dirty marks); ``exact`` is False: ``top`` is approximate beyond the overlay.
    """

    exact = False
    kind = "lancedb"

    def __init__(
        self, table: Any, user_id: int, dim: int, table_ids: Iterable[int], index_min_rows: int = INDEX_MIN_ROWS
    ) -> None:
        self.table = table
        self.user_id = user_id
        self.dim = dim
        self.index_min_rows = index_min_rows
        self.lock = threading.Lock()
        self.loaded = True
        self.successor: Any = None
        self.dirty: set[int] = set()
        self.dirty_lock = threading.Lock()
        self.stale = False  # a flush failed half-way: VectorIndex reopens (reconciles) this user
        self.table_ids: set[int] = set(table_ids)
        self.delta = UserIndex(dim)
        self.hidden: set[int] = set()  # always a subset of table_ids
        self._changed: dict[int, int] = {}  # id -> generation of its last overlay change
        self._generation = 0

    def take_dirty(self) -> list[int]:
        with self.dirty_lock:
            dirty = sorted(self.dirty)
            self.dirty.clear()
        return dirty

    @property
    def size(self) -> int:
        return len(self.table_ids) - len(self.hidden) + self.delta.size

    @property
    def pending(self) -> int:
        """Overlay changes not yet written to the table."""
        return len(self._changed)

    def _touch(self, memory_id: int) -> None:
        self._generation += 1
        self._changed[memory_id] = self._generation
        if memory_id in self.table_ids:
            self.hidden.add(memory_id)

    def put(self, memory_id: int, vector: np.ndarray) -> None:
        """Add or replace one vector (caller holds the lock)."""
        self.delta.put(memory_id, vector)
        self._touch(memory_id)

    def remove(self, memory_id: int) -> None:
        """Drop one vector (caller holds the lock; no-op bookkeeping if absent)."""
        self.delta.remove(memory_id)
        self._touch(memory_id)

    def top(self, query: np.ndarray, n: int, conn: Any = None) -> list[tuple[int, float]]:
        """The ``n`` most similar ``(memory_id, cosine)``, best first (caller holds the lock).

        The ANN index ranks approximately and its distances are quantised, so the table's hits are
        re-scored exactly: from their stored vectors over ``conn`` (a read connection), or without one
        by LanceDB re-reading them from its files (``refine_factor``, slower).
        """
        if n <= 0 or self.size == 0:
            return []
        hits: list[tuple[int, float]] = []
        if len(self.table_ids) > len(self.hidden):
            search = self.table.search(np.asarray(query, dtype=np.float32)).distance_type("cosine")
            want = n + len(self.hidden)
            search = search.ef(max(EF, 2 * want, REFINE * want))  # LanceDB needs ef >= the candidates it scores
            if conn is None:
                search = search.refine_factor(REFINE)
            else:
                want += n  # twice the candidates: the exact re-score keeps the best n
            found = search.limit(want).select(["id", "_distance"]).to_arrow()
            ids = found.column("id").to_numpy()
            # hidden: replaced or removed since the table was written; in the delta: a flush is adding it
            # right now (the delta's copy is the one kept)
            keep = [k for k, i in enumerate(ids) if int(i) not in self.hidden and int(i) not in self.delta.row_of]
            if conn is None:
                sims = 1.0 - found.column("_distance").to_numpy()
                hits = [(int(ids[k]), float(sims[k])) for k in keep]
            else:
                hits = self._rescore(conn, [int(ids[k]) for k in keep], query)
        hits.extend(self.delta.top(query, n))
        hits.sort(key=lambda pair: -pair[1])
        return hits[:n]

    def _rescore(self, conn: Any, ids: list[int], query: np.ndarray) -> list[tuple[int, float]]:
        if not ids:
            return []
        rows = conn.execute(
            "SELECT m.id, m.embedding FROM json_each(:ids) j CROSS JOIN memories m ON m.id = j.value"
            " WHERE m.user_id = :user",
            {"ids": "[" + ",".join(map(str, ids)) + "]", "user": self.user_id},
        ).fetchall()
        found = [(int(r[0]), v) for r in rows if (v := decode_vector(r[1], self.dim)) is not None]
        if not found:
            return []
        scores = np.vstack([v for _, v in found]) @ np.asarray(query, dtype=np.float32)
        return [(memory_id, float(score)) for (memory_id, _), score in zip(found, scores, strict=True)]

    def flush(self) -> bool:
        """Write the overlay into the table (no lock held while writing); True if anything was written."""
        with self.lock:
            if not self._changed:
                return False
            snapshot = dict(self._changed)
            puts = {i: self.delta.matrix[self.delta.row_of[i]].copy() for i in snapshot if i in self.delta.row_of}
            drops = sorted(i for i in snapshot if i in self.table_ids)
        try:
            for start in range(0, len(drops), _DELETE_CHUNK):
                chunk = drops[start : start + _DELETE_CHUNK]
                self.table.delete("id IN (" + ",".join(str(i) for i in chunk) + ")")
            if puts:
                self.table.add(_arrow(np.fromiter(puts, dtype=np.int64), np.vstack(list(puts.values()))))
        except Exception:
            self.stale = True
            raise
        with self.lock:
            self.table_ids.difference_update(drops)
            self.table_ids.update(puts)
            for memory_id, generation in snapshot.items():
                if self._changed.get(memory_id) == generation:  # unchanged meanwhile: the table has its state
                    del self._changed[memory_id]
                    self.hidden.discard(memory_id)
                    self.delta.remove(memory_id)
                elif memory_id in self.table_ids:  # changed again: the overlay's newer state masks the row
                    self.hidden.add(memory_id)
                else:
                    self.hidden.discard(memory_id)
        return True

    def purge(self, ids: Iterable[int]) -> bool:
        """Take purged memories out of the table and out of its files now (blocking); True if it held any.

        Flushes the overlay (the purged ids are masked first), then compacts the deleted rows away with the
        index lock held: no search reads a version while the older ones are being dropped."""
        wanted = [int(i) for i in ids]
        with self.lock:
            held = [i for i in wanted if i in self.table_ids]
            for memory_id in wanted:
                self.remove(memory_id)
        if not held:
            return False
        self.flush()
        with self.lock:
            compact_away(self.table)
        return True

    def optimize(self) -> None:
        """After a flush: build the ANN index once the table is big enough, fold the new rows into it,
        compact the small fragments flushes leave, and drop table versions older than a minute."""
        if len(self.table_ids) >= self.index_min_rows and not self.table.list_indices():
            AnnStore.build_index(self.table)
        self.table.optimize(cleanup_older_than=timedelta(minutes=1))
