"""Shared test data for the crypto tests (a uniquely named module: importable next to other conftests)."""

from __future__ import annotations

from typing import Any

from engram_core.crypto.keys import Argon2Params

FAST = Argon2Params(memory_kib=1024, time_cost=1)
SENTENCE = "the violet heron nests beside the quarry lake"


def populate(conn: Any, rows: int = 50) -> None:
    """A small schema like Engram's: a table, a linked table with an index, FTS5 and a user_version."""
    conn.execute("CREATE TABLE memories (id INTEGER PRIMARY KEY, content TEXT NOT NULL)")
    conn.execute("CREATE TABLE tags (memory_id INTEGER REFERENCES memories(id), tag TEXT)")
    conn.execute("CREATE VIRTUAL TABLE memories_fts USING fts5(content)")
    conn.execute("CREATE INDEX tags_tag ON tags(tag)")
    conn.execute("BEGIN")
    for i in range(rows):
        text = SENTENCE if i == 0 else f"memory number {i} about item {i * 7}"
        conn.execute("INSERT INTO memories (id, content) VALUES (?, ?)", (i + 1, text))
        conn.execute("INSERT INTO memories_fts (rowid, content) VALUES (?, ?)", (i + 1, text))
        conn.execute("INSERT INTO tags VALUES (?, ?)", (i + 1, f"t{i % 5}"))
    conn.execute("COMMIT")
    conn.execute("PRAGMA user_version = 3")
