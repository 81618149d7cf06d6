"""After every route that changes a memory, the next *cached* search reflects it (issue 10 §1).

Each test fills the search cache with one query, checks that the same query is then served from the
cache, makes one change through a route (or the background task that makes it), and sends the same
query again: the answer must show the change. Before the change feed, only the routes of
``MemoryService`` dropped the cache; deduplicate, reviews, decay refresh, PageRank, space deletion,
links, re-embedding and the TTL sweep left a stale answer for up to the cache's TTL.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from starlette.testclient import TestClient

from engram_core.memories import writes
from engram_core.settings import Settings
from engram_server.app import create_app
from tests.conftest import BOOTSTRAP_SECRET
from tests.helpers import Api
from tests.support.tiny_models import install_tiny_model

QUERY = "lighthouse keeper"


class Cached:
    """Runs one search body repeatedly and checks which answers came from the cache."""

    def __init__(self, api: Api, key: str, **body: Any) -> None:
        self.api, self.key, self.body = api, key, {"query": QUERY, **body}

    def _run(self) -> dict[str, Any]:
        r = self.api.call("POST", "/search", self.key, json=self.body)
        assert r.status_code == 200, r.text
        return dict(r.json())

    def fill(self) -> dict[str, Any]:
        """Search twice: the second answer must be a cache hit (so the test checks the cache, not luck)."""
        first = self._run()
        hits = self.api.engram.search.cache.hits
        assert self._run() == first
        assert self.api.engram.search.cache.hits == hits + 1, "the second identical search was not cached"
        return first

    def again(self) -> dict[str, Any]:
        return self._run()

    def ids(self) -> list[int]:
        return [r["id"] for r in self._run()["results"]]


def _store(api: Api, key: str, content: str, **fields: Any) -> int:
    return api.store(key, content, **fields)


@pytest.fixture
def key(api: Api) -> str:
    api.park_background()  # no scheduler task or job runs between the steps of a test
    return api.user("reader-writer")


def test_store(api: Api, key: str) -> None:
    a = _store(api, key, "The lighthouse keeper logs the weather at dawn")
    search = Cached(api, key)
    assert [r["id"] for r in search.fill()["results"]] == [a]
    b = _store(api, key, "A second lighthouse keeper joined in winter")
    assert sorted(search.ids()) == sorted([a, b])


def test_update(api: Api, key: str) -> None:
    a = _store(api, key, "The lighthouse keeper logs the weather at dawn")
    search = Cached(api, key)
    search.fill()
    r = api.call("POST", f"/memory/{a}/update", key, json={"content": "The lighthouse keeper logs tides at dusk"})
    assert r.status_code == 200, r.text
    results = search.again()["results"]
    assert [x["id"] for x in results] == [r.json()["new_id"]] and "tides" in results[0]["content"]


def test_tags(api: Api, key: str) -> None:
    a = _store(api, key, "The lighthouse keeper logs the weather at dawn", tags=["old"])
    search = Cached(api, key)
    assert search.fill()["results"][0]["tags"] == ["old"]
    assert api.call("PUT", f"/memory/{a}/tags", key, json={"tags": ["new"]}).status_code == 200
    assert search.again()["results"][0]["tags"] == ["new"]


@pytest.mark.parametrize("route", ["forget", "archive", "delete", "purge"])
def test_hiding_routes(api: Api, key: str, route: str) -> None:
    a = _store(api, key, "The lighthouse keeper logs the weather at dawn")
    b = _store(api, key, "The old lighthouse keeper retired to the village")
    search = Cached(api, key)
    assert sorted(r["id"] for r in search.fill()["results"]) == sorted([a, b])
    if route == "delete":
        r = api.call("DELETE", f"/memory/{a}", key)
    else:
        r = api.call("POST", f"/memory/{a}/{route}", key, json={})
    assert r.status_code == 200, r.text
    assert search.ids() == [b]


@pytest.mark.parametrize("route", ["unarchive", "restore"])
def test_bringing_back(api: Api, key: str, route: str) -> None:
    a = _store(api, key, "The lighthouse keeper logs the weather at dawn")
    b = _store(api, key, "The old lighthouse keeper retired to the village")
    hide = ("POST", f"/memory/{a}/archive") if route == "unarchive" else ("DELETE", f"/memory/{a}")
    assert api.call(*hide, key).status_code == 200
    search = Cached(api, key)
    assert [r["id"] for r in search.fill()["results"]] == [b]
    assert api.call("POST", f"/memory/{a}/{route}", key).status_code == 200
    assert sorted(search.ids()) == sorted([a, b])


def test_deduplicate_merges_into_one(api: Api, key: str) -> None:
    """The issue's reproduction: two near-identical memories, a cached search, POST /deduplicate."""
    a = _store(api, key, "The lighthouse keeper logs the weather every morning at dawn before breakfast")
    b = _store(api, key, "The lighthouse keeper logs the weather each morning at dawn before his breakfast")
    search = Cached(api, key)
    assert sorted(r["id"] for r in search.fill()["results"]) == sorted([a, b])
    r = api.call("POST", "/deduplicate", key, json={"distance": 16})
    assert r.status_code == 200 and r.json()["merged_count"] == 1, r.text
    assert search.ids() == [a]


def test_duplicate_store_boosts_the_existing_memory(api: Api, key: str) -> None:
    a = _store(api, key, "The lighthouse keeper logs the weather at dawn")
    search = Cached(api, key)
    search.fill()
    misses = api.engram.search.cache.misses
    r = api.call("POST", "/store", key, json={"content": "the lighthouse keeper logs the weather, at dawn"})
    assert r.status_code == 200 and r.json()["existing_id"] == a
    search.again()
    assert api.engram.search.cache.misses == misses + 1  # source_count 2: a higher source_count boost


def test_explicit_review(api: Api, key: str) -> None:
    a = _store(api, key, "The lighthouse keeper logs the weather at dawn", created_at="2020-01-01T00:00:00Z")
    search = Cached(api, key)
    before = search.fill()["results"][0]
    assert api.call("POST", "/fsrs/review", key, json={"id": a, "grade": 4}).status_code == 200
    after = search.again()["results"][0]
    assert after["decay_score"] > before["decay_score"] and after["score"] > before["score"]


def test_decay_refresh_and_fsrs_init_drop_the_cache(api: Api, key: str) -> None:
    _store(api, key, "The lighthouse keeper logs the weather at dawn")
    search = Cached(api, key)
    search.fill()
    misses = api.engram.search.cache.misses
    assert api.call("POST", "/decay/refresh", key).status_code == 200
    search.again()
    assert api.engram.search.cache.misses == misses + 1


def test_links_and_pagerank(api: Api, key: str) -> None:
    hub = _store(api, key, "The lighthouse keeper logs the weather at dawn")
    leaves = [_store(api, key, f"Note {i} about the harbour tides and boats number {i}") for i in range(3)]
    search = Cached(api, key, include_links=True)
    assert search.fill()["results"][0].get("linked", []) == []
    for leaf in leaves:
        r = api.call("POST", "/links", key, json={"source_id": leaf, "target_id": hub, "link_type": "related"})
        assert r.status_code == 201, r.text
    linked = search.again()["results"][0]["linked"]
    assert sorted(x["id"] for x in linked) == sorted(leaves)
    before = search.fill()["results"][0]["score"]
    assert api.call("POST", "/graph/pagerank", key).status_code == 200
    assert search.again()["results"][0]["score"] > before  # the hub's PageRank boost


def test_space_deletion_moves_memories_out(api: Api, key: str) -> None:
    space = api.call("POST", "/spaces", key, json={"name": "work"}).json()["id"]
    a = _store(api, key, "The lighthouse keeper logs the weather at dawn", space_id=space)
    search = Cached(api, key)
    first = search.fill()["results"]
    assert [r["id"] for r in first] == [a]
    misses = api.engram.search.cache.misses
    assert api.call("DELETE", f"/spaces/{space}", key).status_code == 200
    assert search.ids() == [a]
    assert api.engram.search.cache.misses == misses + 1  # recomputed: the memory left the space
    r = api.call("POST", "/search", key, json={"query": QUERY, "space_id": space})
    assert r.status_code in (200, 404) and (r.status_code == 404 or r.json()["results"] == [])


def test_ttl_sweep(api: Api, key: str) -> None:
    a = _store(api, key, "The lighthouse keeper logs the weather at dawn", forget_after="2999-01-01T00:00:00Z")
    b = _store(api, key, "The old lighthouse keeper retired to the village")
    search = Cached(api, key)
    assert sorted(r["id"] for r in search.fill()["results"]) == sorted([a, b])
    assert api.engram.db.write(lambda c: writes.sweep_expired(c, "3000-01-01T00:00:00Z")) == 1
    assert search.ids() == [b]


@pytest.fixture
def with_model(settings: Settings) -> Iterator[Api]:
    install_tiny_model(settings.models_dir)
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        r = client.post("/bootstrap", json={"secret": BOOTSTRAP_SECRET})
        assert r.status_code == 201, r.text
        yield Api(client, r.json()["key"])


def test_reembed(with_model: Api) -> None:
    api = with_model
    key = api.admin_key
    a = _store(api, key, "The lighthouse keeper logs the weather at dawn")
    api.park_background()
    api.engram.db.write(lambda c: c.execute("UPDATE memories SET embedding = NULL, embedding_model = NULL"))
    search = Cached(api, key)
    assert search.fill()["results"][0]["semantic_score"] is None
    r = api.call("POST", "/admin/reembed", key)
    assert r.status_code == 202, r.text
    portal = api.client.portal
    assert portal is not None
    portal.call(api.engram.jobs.start)
    portal.call(api.engram.jobs.drain)
    result = search.again()["results"][0]
    assert result["id"] == a and result["semantic_score"] is not None


def test_what_does_not_drop_the_cache(api: Api, key: str) -> None:
    """Decided: the implicit reviews a search causes (cause RECALL) and counting an access on GET leave the
    cached answers (neither is in a search answer's content; the cache TTL bounds the score drift), or the
    cache would empty itself a few seconds after every search."""
    a = _store(api, key, "The lighthouse keeper logs the weather at dawn")
    search = Cached(api, key)
    search.fill()
    portal = api.client.portal
    assert portal is not None
    assert portal.call(api.engram.cognitive.reviews.flush) == 1  # the Good review of the recalled memory
    assert api.call("GET", f"/memory/{a}", key).json()["access_count"] == 1
    hits = api.engram.search.cache.hits
    search.again()
    assert api.engram.search.cache.hits == hits + 1


def test_one_users_write_keeps_the_others_cache(api: Api, key: str) -> None:
    other = api.user("other")
    _store(api, key, "The lighthouse keeper logs the weather at dawn")
    _store(api, other, "The lighthouse keeper of the other user")
    search, theirs = Cached(api, key), Cached(api, other)
    search.fill()
    theirs.fill()
    _store(api, other, "Another lighthouse keeper note")
    hits = api.engram.search.cache.hits
    search.again()
    assert api.engram.search.cache.hits == hits + 1
    assert len(theirs.again()["results"]) == 2
