"""Search through the API with ENGRAM_USE_LANCE_INDEX on: a user past the threshold is served by LanceDB,
with the same answers, writes searchable at once, filters honoured and other users untouched."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from engram_core.search.channels import vector
from engram_core.settings import Settings
from tests.conftest import BOOTSTRAP_SECRET
from tests.helpers import Api
from tests.search_support import HashEmbedder, embed_all, engram_of

TOPICS = ["garden", "tomato", "invoice", "flight", "piano", "recipe", "server", "holiday", "doctor", "budget"]


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings.for_data_dir(
        tmp_path / "data",
        bootstrap_secret=BOOTSTRAP_SECRET,
        ttl_sweep_seconds=3600.0,
        use_lance_index=True,
        lance_threshold=40,
    )


def _text(i: int) -> str:
    a, b, c = TOPICS[i % 10], TOPICS[(i * 3 + 1) % 10], TOPICS[(i * 7 + 2) % 10]
    return f"Note {i}: {a} {b} {c} w{i}a w{i}b w{i}c"


def _ids(api: Api, key: str, **body: Any) -> list[int]:
    r = api.call("POST", "/search", key, json={"limit": 10, **body})
    assert r.status_code == 200, r.text
    return [x["id"] for x in r.json()["results"]]


def _index_kind(api: Api, key: str) -> str:
    r = api.call("POST", "/search/explain", key, json={"query": "garden"})
    assert r.status_code == 200, r.text
    return str(r.json()["vector_search"]["index"])


def test_a_large_user_moves_to_lancedb_with_the_same_answers(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    engram = engram_of(api)
    engram.embedder = HashEmbedder()
    alice, bob = api.admin_key, api.user("bob")
    mine = [api.store(alice, _text(i)) for i in range(60)]
    picked = [api.store(alice, f"Picked {i} tomato garden w{i}z", category="picked") for i in range(3)]
    bobs = [api.store(bob, _text(i)) for i in range(5)]
    embed_all(engram)
    queries = ["garden tomato", "invoice flight piano", "doctor budget", "holiday server recipe"]
    before = {q: _ids(api, alice, query=q) for q in queries}
    assert _index_kind(api, alice) == "memory"

    done = engram.search.index.maintain()
    assert done["promoted"] == 1  # Alice (63 vectors) moves; Bob (5) stays in memory
    assert _index_kind(api, alice) == "lancedb" and _index_kind(api, bob) == "memory"
    engram.search.cache.invalidate(1)
    assert {q: _ids(api, alice, query=q) for q in queries} == before

    # A write is searchable at once (overlay), a forgotten memory never comes back, even after a flush.
    new = api.store(alice, "I purchased an automobile last spring")
    embed_all(engram)
    assert new in _ids(api, alice, query="bought car")
    gone = next(i for i in before["garden tomato"] if i in mine)
    assert api.call("DELETE", f"/memory/{gone}", alice).status_code == 200
    assert gone not in _ids(api, alice, query="garden tomato")
    assert engram.search.index.maintain()["flushed"] == 1
    assert gone not in _ids(api, alice, query="garden tomato", limit=50)
    assert new in _ids(api, alice, query="bought car")

    # A selective filter still fills from the filtered rows (also when the ANN widening gives up at once
    # and SQL answers); no user sees another's memories.
    assert set(_ids(api, alice, query="garden tomato", category="picked")) == set(picked)
    monkeypatch.setattr(vector, "ANN_WIDEN_CAP", 8)
    assert set(_ids(api, alice, query="tomato garden picked", category="picked")) == set(picked)
    assert set(_ids(api, bob, query="garden tomato invoice", limit=50)) <= set(bobs)
    assert not set(_ids(api, alice, query="garden tomato invoice", limit=50)) & set(bobs)
