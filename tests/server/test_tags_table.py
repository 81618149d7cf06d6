"""memory_tags (migration 0009) follows memories.tags through every write, and the tag routes read it."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from engram_core.storage.connection import connect
from engram_core.storage.migrate import apply_migrations, migrations_dir
from tests.helpers import Api
from tests.search_support import engram_of


def _rows(api: Api) -> set[tuple[int, str, int]]:
    return set(engram_of(api).db.read(lambda c: [tuple(r) for r in c.execute("SELECT * FROM memory_tags")]))


def _search(api: Api, key: str, **body: Any) -> tuple[int, set[int]]:
    r = api.call("POST", "/tags/search", key, json=body)
    assert r.status_code == 200, r.text
    return r.json()["total"], {m["id"] for m in r.json()["results"]}


def test_tag_rows_follow_store_replace_update_and_purge(api: Api) -> None:
    alice, bob = api.admin_key, api.user("bob")
    a = api.store(alice, "Heron survey on the north marsh", tags=["birds", "survey", "birds"])
    b = api.store(alice, "Kingfisher nest by the weir", tags=["birds"])
    c = api.store(bob, "Bob's heron sketch", tags=["birds", "art"])
    assert _rows(api) == {(a, "birds", 1), (a, "survey", 1), (b, "birds", 1), (c, "art", 2), (c, "birds", 2)}

    assert api.call("PUT", f"/memory/{a}/tags", alice, json={"tags": ["marsh"]}).status_code == 200
    assert {(m, t) for m, t, _ in _rows(api) if m == a} == {(a, "marsh")}
    assert _search(api, alice, tags=["birds"]) == (1, {b})  # Bob's tagged memory is never counted
    assert _search(api, alice, tags=["birds", "marsh"], match="any") == (2, {a, b})
    assert _search(api, alice, tags=["birds", "marsh"], match="all") == (0, set())
    tags = api.call("GET", "/tags", alice).json()["tags"]
    assert tags == [{"tag": "birds", "count": 1}, {"tag": "marsh", "count": 1}]

    r = api.call("POST", f"/memory/{b}/update", alice, json={"content": "Kingfisher nest, old weir", "tags": ["nest"]})
    assert r.status_code == 200, r.text
    new = r.json()["new_id"]
    assert (new, "nest", 1) in _rows(api) and _search(api, alice, tags=["birds"]) == (0, set())  # old version hidden

    assert api.call("DELETE", f"/memory/{a}", alice).status_code == 200
    assert api.call("POST", f"/memory/{a}/purge", alice).status_code == 200
    assert not any(m == a for m, _, _ in _rows(api))
    assert engram_of(api).db.read(lambda c: c.execute("PRAGMA integrity_check").fetchone()[0]) == "ok"


def test_migration_0009_backfills_tags_of_existing_memories(tmp_path: Path) -> None:
    before = tmp_path / "before"
    before.mkdir()
    for path in sorted(migrations_dir().glob("*.sql")):
        if path.name < "0009":
            shutil.copy(path, before / path.name)
    conn = connect(tmp_path / "t.db")
    try:
        apply_migrations(conn, before)
        conn.execute("INSERT INTO users (id, name, created_at) VALUES (1, 'u', 'now')")
        conn.execute(
            "INSERT INTO memories (id, user_id, content, created_at, updated_at, tags)"
            " VALUES (7, 1, 'x', 'now', 'now', ?)",
            ('["a", "b", "a", 3]',),  # a duplicate and a non-text value: neither becomes a row
        )
        apply_migrations(conn)  # now with 0009
        assert sorted(tuple(r) for r in conn.execute("SELECT * FROM memory_tags")) == [(7, "a", 1), (7, "b", 1)]
    finally:
        conn.close()
