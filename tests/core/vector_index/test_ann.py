"""The LanceDB ANN path: overlay + flush, promotion past the threshold, reopen + reconcile, a real ANN index."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from engram_core.errors import Invalid
from engram_core.settings import Settings
from engram_core.storage.database import Database
from engram_core.vector_index.ann import AnnStore, AnnUserIndex
from engram_core.vector_index.index import UserIndex, VectorIndex

DIM = 16


def _vectors(n: int, seed: int = 0) -> np.ndarray:
    v = np.random.default_rng(seed).standard_normal((n, DIM)).astype(np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def _exact(ids: list[int], vectors: np.ndarray, query: np.ndarray, n: int) -> list[int]:
    scores = vectors @ query
    return [ids[i] for i in np.argsort(-scores, kind="stable")[:n]]


def _store(tmp_path: Path, index_min_rows: int = 4096) -> AnnStore:
    return AnnStore(tmp_path / "lance", index_min_rows=index_min_rows)


def test_overlay_answers_at_once_and_flush_writes_it(tmp_path: Path) -> None:
    store = _store(tmp_path)
    v = _vectors(300)
    ids = list(range(1, 301))
    index = AnnUserIndex(store.create(7, "m", np.array(ids), v), 7, DIM, ids)
    q = v[10]
    assert [i for i, _ in index.top(q, 5)] == _exact(ids, v, q, 5)
    assert index.top(q, 1)[0][1] == pytest.approx(1.0, abs=1e-5)  # exact cosines, not index distances

    new = _vectors(1, seed=9)[0]
    with index.lock:
        index.put(1000, new)  # a new memory
        index.remove(11)  # forgotten: it was the best hit for q
        index.put(12, -q)  # a vector replaced in place (the overlay wins over the table row)
    assert index.size == 300 and index.pending == 3
    assert index.top(new, 1)[0][0] == 1000
    top = [i for i, _ in index.top(q, 300)]
    assert 11 not in top and top[-1] == 12 and len(top) == 300

    assert index.flush() is True and index.pending == 0 and not index.hidden and index.delta.size == 0
    assert store.ids(index.table) == (set(ids) - {11, 12}) | {1000, 12}
    assert [i for i, _ in index.top(q, 300)] == top  # same answers from the table alone
    assert index.flush() is False


def test_a_change_during_a_flush_is_not_lost(tmp_path: Path) -> None:
    store = _store(tmp_path)
    v = _vectors(50)
    ids = list(range(1, 51))
    index = AnnUserIndex(store.create(1, "m", np.array(ids), v), 1, DIM, ids)
    with index.lock:
        index.put(100, v[0])
        index.put(101, v[1])
    real = index.table

    class Racing:
        """The table, but a search-side sync changes 100 and 101 again while the flush writes."""

        def __getattr__(self, name: str) -> Any:
            return getattr(real, name)

        def add(self, data: Any) -> None:
            with index.lock:
                index.remove(100)
                index.put(101, -v[1])
            real.add(data)

    index.table = Racing()
    assert index.flush()
    index.table = real
    assert index.pending == 2 and index.hidden == {100, 101}  # the table's rows are stale: masked
    assert 100 not in [i for i, _ in index.top(v[0], 60)]
    assert index.top(-v[1], 1)[0][0] == 101
    assert index.flush() and index.pending == 0
    assert 100 not in store.ids(real) and index.size == 51
    assert index.top(-v[1], 1)[0][0] == 101


def _db(tmp_path: Path) -> Database:
    db = Database(tmp_path / "t.db")
    db.write(lambda c: c.execute("INSERT INTO users (id, name, created_at) VALUES (1, 'u', 'now')"))
    return db


def _insert(db: Database, vectors: np.ndarray) -> list[int]:
    def run(conn: Any) -> list[int]:
        out = []
        for vec in vectors:
            cur = conn.execute(
                "INSERT INTO memories (user_id, content, created_at, updated_at, embedding, embedding_model)"
                " VALUES (1, 'x', 'now', 'now', ?, 'm')",
                (vec.astype("<f4").tobytes(),),
            )
            out.append(int(cur.lastrowid))
        return out

    return db.write(run)


def _index(store: AnnStore, threshold: int) -> VectorIndex:
    vi = VectorIndex(store, threshold=threshold)
    vi.use_model("m", DIM)
    return vi


def _forget(db: Database, ids: list[int]) -> None:
    db.write(lambda c: c.executemany("UPDATE memories SET is_forgotten = 1 WHERE id = ?", [(i,) for i in ids]))


def test_promotion_then_restart_reconciles_with_sqlite(tmp_path: Path) -> None:
    db = _db(tmp_path)
    try:
        store = _store(tmp_path)
        vi = _index(store, 100)
        v = _vectors(150)
        ids = _insert(db, v)
        assert isinstance(db.read(lambda c: vi.sync(c, 1)), UserIndex) and vi.kind(1) == "memory"
        assert vi.maintain()["promoted"] == 1 and vi.kind(1) == "lancedb" and vi.size(1) == 150
        q = v[3]
        ann = db.read(lambda c: vi.sync(c, 1))
        assert isinstance(ann, AnnUserIndex) and [i for i, _ in ann.top(q, 10)] == _exact(ids, v, q, 10)
        rescored = db.read(lambda c: ann.top(q, 10, c))  # the search path: exact cosines from SQLite
        assert [i for i, _ in rescored] == _exact(ids, v, q, 10)
        assert all(s == pytest.approx(float(v[ids.index(i)] @ q), abs=1e-6) for i, s in rescored)

        more = _insert(db, _vectors(5, seed=1))
        _forget(db, [ids[3]])
        vi.mark_dirty(1, [*more, ids[3]])
        ann = db.read(lambda c: vi.sync(c, 1))
        assert ann.size == 154 and ids[3] not in [i for i, _ in ann.top(q, 10)]
        assert vi.maintain()["flushed"] == 1 and ann.pending == 0

        # Down: written behind the index's back (another process), then a restart opens the table.
        late = _insert(db, _vectors(3, seed=2))
        _forget(db, [ids[4]])
        restarted = _index(store, 100)
        reopened = db.read(lambda c: restarted.sync(c, 1))
        assert isinstance(reopened, AnnUserIndex) and reopened.size == 156
        assert set(late) <= set(reopened.delta.row_of) and reopened.hidden == {ids[4]}
        everything = [i for i, _ in reopened.top(q, 500)]
        assert set(everything) == (set(ids) | set(more) | set(late)) - {ids[3], ids[4]}
    finally:
        db.close()


def test_model_switch_drops_the_old_models_tables(tmp_path: Path) -> None:
    db = _db(tmp_path)
    try:
        store = _store(tmp_path)
        vi = _index(store, 10)
        _insert(db, _vectors(20))
        db.read(lambda c: vi.sync(c, 1))
        vi.maintain()
        assert store.tables() == [AnnStore.table_name(1, "m")]
        vi.use_model("other", DIM)
        assert vi.maintain()["dropped_tables"] == 1 and store.tables() == []
    finally:
        db.close()


def test_ann_index_is_built_and_close_to_exact(tmp_path: Path) -> None:
    store = _store(tmp_path, index_min_rows=500)
    v = _vectors(2000, seed=3)
    ids = list(range(2000))
    index = AnnUserIndex(store.create(1, "m", np.array(ids), v), 1, DIM, ids, index_min_rows=500)
    assert index.table.list_indices()  # a real IVF-HNSW-SQ index, not a flat scan
    queries = _vectors(40, seed=4)
    recall = np.mean([len(set(_exact(ids, v, q, 10)) & {i for i, _ in index.top(q, 10)}) / 10 for q in queries])
    assert recall >= 0.9
    for memory_id, cosine in index.top(queries[0], 10):
        assert cosine == pytest.approx(float(v[memory_id] @ queries[0]), abs=1e-4)
    with index.lock:
        for i in range(600):
            index.put(5000 + i, v[i])
    index.flush()
    index.optimize()  # the 600 flushed rows folded into the index
    stats = index.table.index_stats(index.table.list_indices()[0].name)
    assert stats.num_unindexed_rows == 0 and stats.num_indexed_rows == 2600


def test_settings_refuse_lance_with_encryption(tmp_path: Path) -> None:
    with pytest.raises(Invalid) as err:
        Settings.for_data_dir(tmp_path, use_lance_index=True, encryption_mode="keyfile")
    assert err.value.field == "ENGRAM_USE_LANCE_INDEX" and "unencrypted" in str(err.value)
    with pytest.raises(Invalid) as err:
        Settings.for_data_dir(tmp_path, lance_threshold=0)
    assert err.value.field == "ENGRAM_LANCE_THRESHOLD"
    assert Settings.for_data_dir(tmp_path, use_lance_index=False, encryption_mode="keyfile").encryption_mode


def test_filtered_search_widens_over_a_real_ann_index(tmp_path: Path) -> None:
    from engram_core.search.channels.vector import vector_search
    from engram_core.search.filters import search_scope
    from engram_core.search.schemas import SEARCH

    db = _db(tmp_path)
    try:
        v = _vectors(1500, seed=7)
        ids = _insert(db, v)
        rare = ids[::60]  # 25 memories in a category the filter asks for
        db.write(lambda c: c.executemany("UPDATE memories SET category = 'rare' WHERE id = ?", [(i,) for i in rare]))
        vi = VectorIndex(AnnStore(tmp_path / "lance", index_min_rows=256), threshold=1000)
        vi.use_model("m", DIM)
        db.read(lambda c: vi.sync(c, 1))
        assert vi.maintain()["promoted"] == 1
        scope = search_scope(1, SEARCH.parse({"query": "x", "category": "rare"}))
        rows = {i: v[k] for k, i in enumerate(ids)}
        for q in _vectors(10, seed=8):
            index = db.read(lambda c: vi.sync(c, 1))
            assert index.kind == "lancedb" and index.table.list_indices()
            got = db.read(lambda c, q=q, index=index: vector_search(c, scope, index, q, 5, "m"))
            want = sorted(rare, key=lambda i, q=q: -float(rows[i] @ q))[:5]
            assert len({i for i, _ in got}) == len(got) == 5  # no id twice, the limit filled
            assert [i for i, _ in got] == want  # the widening reaches the exact filtered top 5
    finally:
        db.close()
