"""The in-memory vector index: top-k, swap removal, lazy load and incremental sync over real SQLite."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from engram_core.storage.database import Database
from engram_core.vector_index.index import UserIndex, VectorIndex, best


def _unit(*xs: float) -> np.ndarray:
    v = np.asarray(xs, dtype=np.float32)
    return v / np.linalg.norm(v)


def test_user_index_top_and_remove() -> None:
    index = UserIndex(2)
    for i, v in enumerate([(1, 0), (0, 1), (1, 1), (-1, 0)], start=1):
        index.put(i, _unit(*v))
    assert [i for i, _ in index.top(_unit(1, 0), 2)] == [1, 3]
    index.remove(1)
    index.remove(99)
    assert index.size == 3 and [i for i, _ in index.top(_unit(1, 0), 5)] == [3, 2, 4]
    index.put(3, _unit(-1, 0.1))  # replace
    assert index.top(_unit(1, 0), 1)[0][0] == 2
    for i in range(200):
        index.put(100 + i, _unit(1, i))
    assert index.size == 203 and index.top(_unit(1, 199), 1)[0][1] > 0.9999 and 299 in index.row_of


def _db(tmp_path: Path) -> Database:
    db = Database(tmp_path / "t.db")
    db.write(lambda c: c.execute("INSERT INTO users (id, name, created_at) VALUES (1, 'u', 'now')"))
    return db


def _insert(db: Database, vec: np.ndarray | None, model: str = "m") -> int:
    def run(conn: Any) -> int:
        cur = conn.execute(
            "INSERT INTO memories (user_id, content, created_at, updated_at, embedding, embedding_model)"
            " VALUES (1, 'x', 'now', 'now', ?, ?)",
            (None if vec is None else vec.astype("<f4").tobytes(), model),
        )
        return int(cur.lastrowid)

    return db.write(run)


def test_lazy_load_then_incremental_sync(tmp_path: Path) -> None:
    db = _db(tmp_path)
    try:
        vi = VectorIndex()
        vi.use_model("m", 2)
        a = _insert(db, _unit(1, 0))
        _insert(db, _unit(0, 1), model="other")  # another model's vector: not comparable
        _insert(db, None)
        assert db.read(lambda c: vi.sync(c, 1)).size == 1
        b = _insert(db, _unit(1, 1))
        assert db.read(lambda c: vi.sync(c, 1)).size == 1  # not marked dirty: not re-read
        vi.mark_dirty(1, [b])
        index = db.read(lambda c: vi.sync(c, 1))
        assert index.size == 2 and index.top(_unit(1, 1), 1)[0][0] == b
        db.write(lambda c: c.execute("UPDATE memories SET is_forgotten = 1 WHERE id = ?", (a,)))
        vi.mark_dirty(1, [a])
        assert [i for i, _ in db.read(lambda c: vi.sync(c, 1)).top(_unit(1, 0), 5)] == [b]
        vi.use_model("n", 2)
        assert vi.size(1) == 0
    finally:
        db.close()


def test_best_is_a_prefix_of_the_whole_ranking_even_with_ties() -> None:
    """The vector channel checks the scope on a first batch just above the limit and widens from there: a
    narrower ``best`` must be the start of a wider one, ties included (hash embeddings tie a lot)."""
    rng = np.random.default_rng(19)
    for _ in range(300):
        size = int(rng.integers(1, 80))
        scores = rng.integers(0, 4, size).astype(np.float32)  # many ties
        ids = np.arange(size) * 7
        whole = best(ids, scores, size)
        assert [s for _, s in whole] == sorted(scores.tolist(), reverse=True)
        for n in range(1, size + 1):
            assert best(ids, scores, n) == whole[:n]
