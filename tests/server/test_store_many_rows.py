"""``store_many`` (the ingest's write) against ``store`` one memory at a time: the same results and the same rows.

A batch looks up its near-duplicates among the rows there before it in one query, inserts its memories with the
ids SQLite would give them (and so their ``root_id`` with them, no UPDATE after) and their affect columns
computed before the transaction; one store at a time takes the long way. Both must agree row for row.
"""

from __future__ import annotations

from typing import Any

from engram_core.auth.context import AuthContext
from engram_core.intelligence.affect import score
from engram_core.storage.changes import ChangeSet
from tests.helpers import Api

BASE = "The harbour team moved the pump on deck two before the storm because the budget was cut"
BODIES: list[dict[str, Any]] = [
    {"content": "I love sailing at dawn, it makes me so happy!", "tags": ["sea"]},
    {"content": BASE + " and asked for a receipt."},
    {"content": BASE.upper() + " AND ASKED FOR A RECEIPT!"},  # distance 0 to the one before: in-batch duplicate
    {"content": "🐉 🔥 🌊"},  # wordless: only the same text is its duplicate
    {"content": "🐉 🔥 🌊"},
    {"content": "Our landlord approved the kitchen tiles, which surprised everyone; terrible timing though."},
    {"content": "The build server replaced the release notes over the weekend.", "importance": 8,
     "category": "work", "created_at": "2023-05-01T10:00:00+00:00", "session_id": "conv-9"},
    {"content": "Already here: the tomato seedlings were priced at short notice."},  # stored before the batch
]  # fmt: skip
ROW = ("content", "category", "source", "importance", "tags", "session_id", "version", "parent_id", "is_latest",
       "fsrs_state", "fsrs_stability", "fsrs_difficulty", "source_count", "valence", "arousal", "simhash",
       "embedding_model", "length(embedding)")  # fmt: skip


def _auth(api: Api, name: str) -> AuthContext:
    user_id = api.engram.db.read(lambda c: c.execute("SELECT id FROM users WHERE name = ?", (name,)).fetchone()[0])
    return AuthContext(user_id=int(user_id), scopes=("read", "write"))


def _rows(api: Api, user_id: int) -> list[tuple[Any, ...]]:
    sql = f"SELECT {', '.join(ROW)}, root_id = id FROM memories WHERE user_id = ? ORDER BY id"
    return [tuple(r) for r in api.engram.db.read(lambda c: c.execute(sql, (user_id,)).fetchall())]


def _plain(results: list[dict[str, Any]], ids: dict[int, int]) -> list[tuple[Any, ...]]:
    """Results with each id as its position among the user's memories (the two users' ids differ)."""
    return [(r["stored"], ids[r["id"] if r["stored"] else r["existing_id"]], r.get("distance")) for r in results]


def test_a_batch_writes_the_rows_and_answers_one_store_at_a_time_would(api: Api) -> None:
    api.user("alice")
    api.user("bob")
    portal, memories = api.client.portal, api.engram.memories
    alice, bob = _auth(api, "alice"), _auth(api, "bob")
    early = BODIES[-1]
    for auth in (alice, bob):
        portal.call(memories.store, auth, early)
        # The newest memory of the table purged: SQLite's next id is above it (AUTOINCREMENT), not max(id) + 1.
        doomed = portal.call(memories.store, auth, {"content": f"scratch note of user {auth.user_id}"})["id"]
        portal.call(memories.purge, auth, doomed)
    seq = api.engram.db.read(lambda c: c.execute("SELECT seq FROM sqlite_sequence WHERE name = 'memories'").fetchone())
    changes: list[ChangeSet] = []
    unsubscribe = api.engram.db.subscribe(changes.append)
    batch = portal.call(memories.store_many, alice, BODIES)
    unsubscribe()
    one_each = [portal.call(memories.store, bob, body) for body in BODIES]

    stored = [r["id"] for r in batch if r["stored"]]
    assert stored == list(range(seq[0] + 1, seq[0] + 1 + len(stored)))  # the ids SQLite would have given
    memory_changes = [c for cs in changes for c in cs.changes if c.table == "memories"]
    assert {c.kind for c in memory_changes} == {"created", "updated"}  # updated: the boosted duplicates
    assert [c.ids for c in memory_changes if c.kind == "created"] == [tuple(stored)]

    def positions(auth: AuthContext) -> dict[int, int]:
        ids = api.engram.db.read(lambda c: c.execute("SELECT id FROM memories WHERE user_id = ? ORDER BY id",
                                                     (auth.user_id,)).fetchall())  # fmt: skip
        return {int(r[0]): i for i, r in enumerate(ids)}

    assert _plain(batch, positions(alice)) == _plain(one_each, positions(bob))
    assert [r["stored"] for r in batch] == [True, True, False, True, False, True, True, False]
    rows = _rows(api, alice.user_id)
    assert rows == _rows(api, bob.user_id)
    assert all(row[-1] for row in rows)  # root_id = id
    for row in rows:
        affect = score(row[0])
        assert (row[ROW.index("valence")], row[ROW.index("arousal")]) == (affect.valence, affect.arousal)
