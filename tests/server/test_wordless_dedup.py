"""Issue 18 §2: wordless content is only a duplicate of the same text; zero-width-only content is empty."""

from __future__ import annotations

import shutil
from pathlib import Path

from engram_core.storage.connection import connect
from engram_core.storage.migrate import apply_migrations, migrations_dir
from tests.helpers import Api

WORDLESS = ["🦄", "🐉 🔥 🌊", "!!!", "???", "→ ←", "¯\\_(ツ)_/¯"]


def test_wordless_memories_are_not_duplicates_of_each_other(api: Api) -> None:
    ids = []
    for text in WORDLESS:
        r = api.call("POST", "/store", api.admin_key, json={"content": text})
        assert r.status_code == 201 and r.json()["stored"] is True, (text, r.text)
        ids.append(r.json()["id"])
    listed = {m["id"]: m["content"] for m in api.call("GET", "/list", api.admin_key).json()["results"]}
    assert all(listed[i] == t for i, t in zip(ids, WORDLESS, strict=True))
    # The same wordless text again (spacing and width aside) is still a duplicate of its first copy.
    for again, first in (("!!!", ids[2]), (" ! ! ! ", ids[2]), ("🦄", ids[0])):
        r = api.call("POST", "/store", api.admin_key, json={"content": again})
        assert r.status_code == 200 and r.json()["existing_id"] == first, (again, r.text)
    # Words next to the symbols: an ordinary SimHash, near nothing above.
    assert api.call("POST", "/store", api.admin_key, json={"content": "🦄 unicorn"}).status_code == 201


def test_zero_width_only_content_is_refused_like_whitespace(api: Api) -> None:
    before = api.table_counts()
    for text in ("\u200b", " \u200b\u200c\u200d ", "\ufeff\u2060", "   "):
        r = api.call("POST", "/store", api.admin_key, json={"content": text})
        assert r.status_code == 400 and r.json()["field"] == "content", (text, r.text)
    assert api.table_counts() == before
    assert api.call("POST", "/store", api.admin_key, json={"content": "a\u200bb"}).status_code == 201


def test_the_migration_takes_old_zero_fingerprints_out_of_the_check(tmp_path: Path) -> None:
    before = tmp_path / "before"
    before.mkdir()
    for path in sorted(migrations_dir().glob("*.sql")):
        if path.name < "0010":
            shutil.copy(path, before / path.name)
    conn = connect(tmp_path / "t.db")
    try:
        apply_migrations(conn, before)
        conn.execute("INSERT INTO users (id, name, created_at) VALUES (1, 'u', 'now')")
        for i, (text, fp) in enumerate((("🦄", 0), ("!!!", 0), ("a word", 12345)), start=1):
            conn.execute("INSERT INTO memories (id, user_id, content, simhash, created_at, updated_at)"
                         " VALUES (?, 1, ?, ?, 'now', 'now')", (i, text, fp))  # fmt: skip
        apply_migrations(conn)
        assert [tuple(r) for r in conn.execute("SELECT id, simhash FROM memories ORDER BY id")] == [
            (1, None), (2, None), (3, 12345)
        ]  # fmt: skip
    finally:
        conn.close()
