"""The personality channel reads its few newest signals first and their memories by primary key."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from engram_core.memories.written import WrittenMemory
from engram_core.personality.store import extract_in_tx
from engram_core.search.channels.personality import newest_sql, personality_search
from engram_core.search.filters import search_scope
from engram_core.search.schemas import SEARCH
from engram_core.storage.database import Database

TEXTS = [
    "I love hiking in the Alps.",
    "I prefer green tea to coffee.",
    "I hate loud music.",
    "Budget review on Monday.",
]


@pytest.fixture
def db(tmp_path: Path) -> Any:
    db = Database(tmp_path / "t.db")

    def fill(conn: Any) -> None:
        conn.execute("INSERT INTO users (id, name, created_at) VALUES (1, 'u', 'now'), (2, 'v', 'now')")
        for user in (1, 2):
            for text in TEXTS:
                cur = conn.execute(
                    "INSERT INTO memories (user_id, content, created_at, updated_at) VALUES (?, ?, 'now', 'now')",
                    (user, text),
                )
                extract_in_tx(conn, WrittenMemory(int(cur.lastrowid), user, text, "general", True))

    db.write(fill)
    yield db
    db.close()


@pytest.mark.parametrize("body", [{"query": "q"}, {"query": "q", "tags": ["x"], "category": "general"}])
def test_memories_are_read_by_primary_key(db: Database, body: dict[str, Any]) -> None:
    scope = search_scope(1, SEARCH.parse(body))
    sql = newest_sql(scope, "s.type IN ('preference', 'value')")
    plan = db.read(lambda c: [str(r[3]) for r in c.execute("EXPLAIN QUERY PLAN " + sql, scope.bind(scan=10))])
    assert any("SEARCH m USING INTEGER PRIMARY KEY" in step for step in plan), plan
    assert not any("idx_memories_user_visible" in step or "AUTOMATIC" in step for step in plan), plan


def test_results_stay_within_the_user_and_match(db: Database) -> None:
    def run(conn: Any, user: int) -> list[tuple[int, float]]:
        return personality_search(conn, search_scope(user, SEARCH.parse({"query": "q"})), "what tea do I like",
                                  10, preference=True)  # fmt: skip

    mine = db.read(lambda c: run(c, 1))
    owners = db.read(lambda c: {int(r[0]) for r in c.execute("SELECT id FROM memories WHERE user_id = 1")})
    assert mine and {i for i, _ in mine} <= owners
    contents = db.read(lambda c: dict(c.execute("SELECT id, content FROM memories").fetchall()))
    assert contents[mine[0][0]] == "I prefer green tea to coffee."
