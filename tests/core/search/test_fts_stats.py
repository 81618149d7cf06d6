"""FTS statistics: common terms leave the MATCH (same scores, less work); ranking in the index first."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from engram_core.search.channels.fts import _ranked_first, fts_search
from engram_core.search.filters import search_scope
from engram_core.search.fts_stats import FtsStats
from engram_core.search.schemas import SEARCH
from engram_core.storage.database import Database


@pytest.fixture
def db(tmp_path: Path) -> Any:
    db = Database(tmp_path / "t.db")
    db.write(lambda c: c.execute("INSERT INTO users (id, name, created_at) VALUES (1, 'u', 'now')"))
    yield db
    db.close()


def _store(db: Database, texts: list[str]) -> list[int]:
    def run(conn: Any) -> list[int]:
        return [
            int(conn.execute(
                "INSERT INTO memories (user_id, content, created_at, updated_at) VALUES (1, ?, 'now', 'now')",
                (text,),
            ).lastrowid)
            for text in texts
        ]  # fmt: skip

    return db.write(run)


def _search(db: Database, query: str, common: FtsStats | None, limit: int = 100) -> list[tuple[int, float]]:
    scope = search_scope(1, SEARCH.parse({"query": query}))
    return db.read(lambda c: fts_search(c, scope, query, limit, common))


def test_common_terms_are_dropped_and_scores_stay(db: Database) -> None:
    # "zebra" is in 30 of 40 documents (75%), "walrus" in 10, "okapi" in 2.
    ids = _store(db, [f"zebra note {i}" for i in range(28)] + ["zebra walrus", "zebra okapi walrus"])
    ids += _store(db, [f"walrus story {i}" for i in range(8)] + ["okapi facts", "plain text"])
    common = FtsStats(min_docs=10)
    assert db.read(lambda c: common.drop(c, ["zebra", "walrus", "okapi"])) == ["walrus", "okapi"]
    assert db.read(lambda c: common.drop(c, ["zebra"])) == ["zebra"]  # nothing else to search with

    full = _search(db, "zebra walrus okapi", None)
    lean = _search(db, "zebra walrus okapi", common, limit=10)  # 11 documents match walrus or okapi
    assert len(full) == 39 and len(lean) == 10
    scores = dict(full)
    for memory_id, score in lean:
        assert score == pytest.approx(scores[memory_id], abs=1e-5)  # zebra's clamped idf adds ~1e-6
    assert [i for i, _ in lean] == [i for i, _ in full][:10]
    # Fewer than the limit without the common term: the full MATCH runs, zebra-only notes rank last.
    assert [i for i, _ in _search(db, "zebra walrus okapi", common)] == [i for i, _ in full]
    assert _search(db, "zebra", common) == _search(db, "zebra", None)  # all common: searched as before
    assert set(ids[:28]) <= {i for i, _ in full}


def test_the_cache_follows_the_corpus(db: Database) -> None:
    _store(db, ["lynx"] * 6 + ["other words"] * 3 + ["more text"] * 3)
    common = FtsStats(min_docs=10)
    assert db.read(lambda c: common.drop(c, ["lynx", "other"])) == ["other"]  # 6 of 12: exactly half
    _store(db, [f"filler {i}" for i in range(10)])  # N 12 -> 22: lynx now in 27%
    assert db.read(lambda c: common.drop(c, ["lynx", "other"])) == ["lynx", "other"]
    _store(db, ["lynx"] * 20)  # in 26 of 42 again, but under min_docs nothing is checked
    assert db.read(lambda c: FtsStats(min_docs=100).drop(c, ["lynx", "other"])) == ["lynx", "other"]


def test_fts_ranks_within_the_scope_when_other_users_crowd_the_top(db: Database) -> None:
    db.write(lambda c: c.execute("INSERT INTO users (id, name, created_at) VALUES (2, 'other', 'now')"))

    def other(conn: Any) -> None:
        for i in range(200):  # the best BM25 matches for "heron" all belong to user 2
            conn.execute(
                "INSERT INTO memories (user_id, content, created_at, updated_at) VALUES (2, ?, 'now', 'now')",
                (f"heron heron heron {i}",),
            )

    db.write(other)
    mine = _store(db, ["a heron by the long quiet river bank today", "heron seen once", "no birds here"])
    scope = search_scope(1, SEARCH.parse({"query": "heron"}))
    # Ranked in the index first with limit 10: the first pass (the 64 best matches in the whole index)
    # holds none of user 1's, so the channel falls back to ranking within the scope.
    assert {i for i, _ in db.read(lambda c: _ranked_first(c, scope, '"heron"', 10))} == set(mine[:2])
    assert {i for i, _ in db.read(lambda c: fts_search(c, scope, "heron", 10))} == set(mine[:2])
    stats = FtsStats(min_docs=10)
    assert db.read(lambda c: (stats.owns_most(c, 1), stats.owns_most(c, 2))) == (False, True)
    assert {i for i, _ in db.read(lambda c: fts_search(c, scope, "heron", 10, stats))} == set(mine[:2])
    scope = search_scope(1, SEARCH.parse({"query": "heron", "category": "birds"}))
    db.write(lambda c: c.execute("UPDATE memories SET category = 'birds' WHERE id = ?", (mine[1],)))
    assert [i for i, _ in db.read(lambda c: fts_search(c, scope, "heron", 10))] == [mine[1]]
