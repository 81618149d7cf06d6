"""The graph channel's in-memory links (engram_core.graph.adjacency) stay equal to ``memory_links`` through
real Engram writes on a real SQLite file: links created, reweighted, deleted, bulk-updated, a memory
purged (its links go by cascade), an export imported into another user, a user deleted, a file changed
while closed and reopened; each user holds only their own links; and a search follows a link made after
the first search (the change feed keeps them current)."""

from __future__ import annotations

import asyncio
import random
import threading
from pathlib import Path
from typing import Any

from engram_core.auth.context import AuthContext
from engram_core.auth.users import create_user
from engram_core.engram import Engram
from engram_core.graph.adjacency import LinkAdjacency, UserLinks
from engram_core.search.channels import graph
from engram_core.search.filters import search_scope
from engram_core.search.schemas import SEARCH
from engram_core.settings import Settings
from engram_core.storage.connection import connect
from engram_core.storage.database import Database

WORDS = [
    "amber",
    "basil",
    "cedar",
    "delta",
    "ember",
    "fjord",
    "garnet",
    "harbor",
    "indigo",
    "juniper",
    "kestrel",
    "lantern",
]


def _open(settings: Settings) -> Engram:
    engram = Engram.open(settings.replace(search_cache_size=0, understand_on_store=False))
    engram.db.write(lambda c: create_user(c, None, "one", is_admin=True))
    engram.db.write(lambda c: create_user(c, None, "two"))
    return engram


def _check(engram: Engram, user_id: int, rng: random.Random) -> UserLinks:
    """Sync the user's links as a search does, then: the same rows as a fresh load, and the same edges and
    graph results as the SQL path for random seeds."""
    scope = search_scope(user_id, SEARCH.parse({"query": "x", "limit": 10}))

    def run(conn: Any) -> UserLinks:
        links = engram.search.links.sync(conn, user_id)
        assert links is not None
        fresh = UserLinks()
        fresh.load(conn, user_id)
        assert (links.out, links.into, links.source_of) == (fresh.out, fresh.into, fresh.source_of)
        ids = [r[0] for r in conn.execute("SELECT id FROM memories WHERE user_id = ?", (user_id,))]
        assert graph._edges(conn, user_id, ids, links) == graph._edges(conn, user_id, ids, None)
        for _ in range(10):
            seeds = {i: rng.random() for i in rng.sample(ids, min(len(ids), rng.randint(1, 6)))}
            want = graph.graph_search(conn, scope, seeds, 50)
            assert graph.graph_search(conn, scope, seeds, 50, links=links) == want
        return links

    return engram.db.read(run)


def test_links_stay_equal_to_the_table_through_writes(settings: Settings) -> None:
    engram = _open(settings)
    one, two = AuthContext.local(1), AuthContext.local(2)
    rng = random.Random(7)

    async def scenario() -> None:
        mine = [(await engram.memories.store(one, {"content": f"{w} note {i}"}))["id"] for i, w in enumerate(WORDS)]
        theirs = [(await engram.memories.store(two, {"content": f"{w} other"}))["id"] for w in WORDS[:4]]
        links = engram.cognitive.links

        async def link(auth: AuthContext, a: int, b: int, kind: str = "related", weight: float = 1.0) -> int:
            body = {"source_id": a, "target_id": b, "link_type": kind, "weight": weight}
            return int((await links.create(auth, body))["id"])

        for _ in range(30):
            a, b = rng.sample(mine, 2)
            await link(one, a, b, rng.choice(["related", "caused_by", "extends", "similarity"]), rng.random() * 2)
        await link(two, theirs[0], theirs[1])
        held = _check(engram, 1, rng)  # loaded
        assert len(held) >= 25  # a pair drawn twice is one link, reweighted
        theirs_links = engram.db.read(lambda c: c.execute("SELECT id FROM memory_links WHERE user_id = 2").fetchall())
        assert _check(engram, 2, rng).source_of.keys() == {r[0] for r in theirs_links}

        new = await link(one, mine[0], mine[-1], "caused_by", 0.7)  # after the load: seen through the feed
        assert new in _check(engram, 1, rng).source_of
        await link(one, mine[0], mine[-1], "caused_by", 1.9)  # reweighted (upsert: an update)
        assert [e[3] for e in _check(engram, 1, rng).out[mine[0]] if e[1] == new] == [2.0 * 1.9]
        await links.delete(one, new)
        assert new not in _check(engram, 1, rng).source_of
        await engram.db.awrite(  # a bulk reweight (as the brain service's feedback does)
            lambda c: c.execute("UPDATE memory_links SET weight = weight + 0.25 WHERE user_id = 1")
        )
        _check(engram, 1, rng)
        hub = max(mine, key=lambda m: len(held.out.get(m, [])) + len(held.into.get(m, [])))
        await engram.memories.purge(one, hub)  # its links leave by the purge
        after = _check(engram, 1, rng)
        assert hub not in after.out and hub not in after.into
        await link(two, theirs[2], theirs[3])
        assert not set(_check(engram, 1, rng).source_of) & set(_check(engram, 2, rng).source_of)
        before = len(_check(engram, 2, rng))
        exported = await engram.portability.export(one, embeddings=False)  # user 1's links imported as user 2's
        try:
            raw = exported.read()
        finally:
            exported.close()
        await engram.portability.import_body(two, raw)
        assert len(_check(engram, 2, rng)) == before + len(_check(engram, 1, rng))
        await engram.db.awrite(lambda c: c.execute("DELETE FROM users WHERE id = 2"))  # links go by cascade
        assert len(_check(engram, 2, rng)) == 0

    try:
        asyncio.run(scenario())
    finally:
        engram.close()


def test_a_search_follows_a_link_made_after_the_first_search(settings: Settings) -> None:
    engram = _open(settings)
    one = AuthContext.local(1)

    async def scenario() -> None:
        seed = (await engram.memories.store(one, {"content": "the zebra crossing is painted white"}))["id"]
        far = (await engram.memories.store(one, {"content": "a quiet harbor at dawn"}))["id"]
        for i in range(6):
            await engram.memories.store(one, {"content": f"filler lantern note {i}"})

        async def graph_hits() -> list[int]:
            found = await engram.search.search(one, {"query": "zebra crossing", "limit": 10})
            return [r["id"] for r in found["results"] if "graph" in r["search_type"]]

        assert await graph_hits() == []  # the user's links are loaded now, empty
        assert engram.search.links.get(1) is not None
        body = {"source_id": seed, "target_id": far, "link_type": "caused_by", "weight": 1.0}
        await engram.cognitive.links.create(one, body)
        assert await graph_hits() == [far]

    try:
        asyncio.run(scenario())
    finally:
        engram.close()


def test_links_stay_equal_while_searches_sync_during_writes(tmp_path: Path) -> None:
    """Read threads sync and walk while the write thread commits link changes: no error, and once the
    writes stop the adjacency equals the table."""
    db = Database(tmp_path / "t.db")
    adjacency = LinkAdjacency()
    db.subscribe(lambda changes: [adjacency.mark_dirty(u, ids) for u, ids in changes.by_user("memory_links").items()])
    n = 60

    def fill(conn: Any) -> None:
        conn.execute("INSERT INTO users (id, name, created_at) VALUES (1, 'u', 'now')")
        for i in range(1, n + 1):
            conn.execute("INSERT INTO memories (id, user_id, content, created_at, updated_at)"
                         " VALUES (?, 1, ?, 'now', 'now')", (i, f"m{i}"))  # fmt: skip

    db.write(fill)
    stop = threading.Event()
    errors: list[BaseException] = []

    def reader() -> None:
        try:
            while not stop.is_set():
                links = db.read(lambda c: adjacency.sync(c, 1))
                assert links is not None
                graph._edges(None, 1, list(range(1, n + 1)), links)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=reader) for _ in range(3)]
    for t in threads:
        t.start()
    rng = random.Random(3)
    try:
        for _ in range(150):
            a, b = rng.sample(range(1, n + 1), 2)
            kind = rng.choice(["related", "caused_by"])
            db.write(lambda c, a=a, b=b, k=kind: c.execute(
                "INSERT INTO memory_links (user_id, source_id, target_id, link_type, weight, created_at)"
                " VALUES (1, ?, ?, ?, ?, 'now') ON CONFLICT DO UPDATE SET weight = excluded.weight",
                (a, b, k, rng.random())))  # fmt: skip
            if rng.random() < 0.3:
                db.write(lambda c: c.execute("DELETE FROM memory_links WHERE id = (SELECT min(id) FROM memory_links)"))
    finally:
        stop.set()
        for t in threads:
            t.join()
    try:
        assert not errors

        def same(conn: Any) -> None:
            links = adjacency.sync(conn, 1)
            fresh = UserLinks()
            fresh.load(conn, 1)
            assert links is not None and (links.out, links.into, links.source_of) == (
                fresh.out,
                fresh.into,
                fresh.source_of,
            )

        db.read(same)
    finally:
        db.close()


def test_a_reopened_database_loads_its_links_anew(settings: Settings) -> None:
    """Links written while no Engram had the file open (a restored or copied file) are there after a reopen."""
    engram = _open(settings)
    one = AuthContext.local(1)
    rng = random.Random(5)

    async def store() -> list[int]:
        ids = [(await engram.memories.store(one, {"content": f"{w} note"}))["id"] for w in WORDS[:5]]
        await engram.cognitive.links.create(one, {"source_id": ids[0], "target_id": ids[1], "link_type": "related"})
        return ids

    try:
        ids = asyncio.run(store())
        assert len(_check(engram, 1, rng)) == 1
    finally:
        engram.close()
    conn = connect(settings.db_path)
    try:
        conn.execute(
            "INSERT INTO memory_links (user_id, source_id, target_id, link_type, weight, created_at)"
            " VALUES (1, ?, ?, 'caused_by', 1.0, 'now')",
            (ids[2], ids[3]),
        )
        conn.commit()
    finally:
        conn.close()
    engram = Engram.open(settings.replace(search_cache_size=0, understand_on_store=False))
    try:
        assert len(_check(engram, 1, rng)) == 2
    finally:
        engram.close()
