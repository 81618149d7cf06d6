"""Hidden memories never surface on any search route; context budgets; time travel; signals storage."""

from __future__ import annotations

import time
from typing import Any

import pytest

from engram_core.search.context import estimate_tokens
from tests.helpers import Api
from tests.search_support import HashEmbedder, embed_all, engram_of

WORD = "zebulon"
ROUTES = (
    "/search",
    "/memories/search",
    "/search/explain",
    "/search/faceted",
    "/recall",
    "/context",
    "/timetravel",
)


def _ids(path: str, body: dict[str, Any]) -> set[int]:
    if path == "/context":
        return {b["id"] for b in body["blocks"]}
    if path == "/recall":
        return {m["id"] for m in body["memories"]}
    return {r["id"] for r in body["results"]}


@pytest.mark.parametrize("with_vectors", [False, True], ids=["no-embedder", "embedder"])
def test_hidden_memories_never_appear(api: Api, with_vectors: bool) -> None:
    engram = engram_of(api)
    if with_vectors:
        engram.embedder = HashEmbedder()
    key = api.admin_key
    other = api.user("mallory")
    visible = api.store(key, f"The {WORD} visible note, pinned", tags=[WORD], is_static=True, importance=9)
    hidden = {
        "forgotten": api.store(key, f"The {WORD} forgotten note", tags=[WORD]),
        "archived": api.store(key, f"The {WORD} archived note", tags=[WORD]),
        "trashed": api.store(key, f"The {WORD} trashed note", tags=[WORD]),
        "superseded": api.store(key, f"The {WORD} superseded note", tags=[WORD]),
        "pending": api.store(key, f"The {WORD} pending note", tags=[WORD], status="pending"),
        "other user": api.store(other, f"The {WORD} note of another user", tags=[WORD], is_static=True),
    }
    assert api.call("POST", f"/memory/{hidden['forgotten']}/forget", key, json={}).status_code == 200
    assert api.call("POST", f"/memory/{hidden['archived']}/archive", key, json={}).status_code == 200
    assert api.call("DELETE", f"/memory/{hidden['trashed']}", key).status_code == 200
    r = api.call("POST", f"/memory/{hidden['superseded']}/update", key, json={"content": f"The {WORD} new version"})
    newest = r.json()["new_id"]
    if with_vectors:
        embed_all(engram)
    banned = set(hidden.values())
    for path in ROUTES:
        r = api.call("POST", path, key, json={"query": f"{WORD} note", "limit": 50, "tags_any": [WORD]})
        assert r.status_code == 200, (path, r.text)
        found = _ids(path, r.json())
        assert visible in found, (path, found)
        assert not found & banned, (path, found & banned)
    r = api.call("POST", "/tags/search", key, json={"tags": [WORD]})
    assert {m["id"] for m in r.json()["results"]} == {visible, newest}


@pytest.mark.parametrize("mode", ["fast", "balanced", "deep", "decision"])
def test_context_never_exceeds_its_budget(api: Api, mode: str) -> None:
    key = api.admin_key
    for i in range(25):
        api.store(
            key,
            f"Budget line {i} {i * 31}q {i * 17}z: the ferret project needs " + "more words " * (i % 7),
            is_static=i % 5 == 0,
        )
    for budget in (0, 1, 7, 40, 120, 600, 5000):
        r = api.call(
            "POST",
            "/context",
            key,
            json={"query": "ferret project budget", "max_tokens": budget, "mode": mode},
        )
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["token_estimate"] <= budget and estimate_tokens(body["context"]) <= budget
        assert body["token_budget"] == budget
        assert sum(b["tokens"] for b in body["blocks"]) <= budget
    big = api.call("POST", "/context", key, json={"query": "ferret", "budget": 5000, "mode": mode}).json()
    assert big["blocks"] and big["context"].startswith("## ")


def test_context_counts_with_the_model_tokenizer(api: Api) -> None:
    engram = engram_of(api)
    engram.embedder = HashEmbedder()
    for i in range(10):
        api.store(api.admin_key, f"Otter fact {i} {i * 13}k {i * 29}p {i * 41}w: " + "word " * 20)
    body = api.call("POST", "/context", api.admin_key, json={"query": "otter", "max_tokens": 60}).json()
    assert body["tokenizer"] == "model"
    assert engram.embedder.count_tokens(body["context"]) <= 60 == body["token_budget"]


def test_timetravel_shows_the_version_current_then(api: Api) -> None:
    key = api.admin_key
    old = api.store(key, "The capybara lives in the north enclosure")
    time.sleep(0.01)
    before_update = api.call("GET", f"/memory/{old}", key).json()["updated_at"]
    time.sleep(0.01)
    new = api.call("POST", f"/memory/{old}/update", key, json={"content": "The capybara moved to the south enclosure"})
    new_id = new.json()["new_id"]
    time.sleep(0.01)
    middle = api.call("GET", f"/memory/{new_id}", key).json()["created_at"]
    time.sleep(0.01)
    api.call("DELETE", f"/memory/{new_id}", key)

    def at(moment: str) -> list[int]:
        r = api.call("POST", "/timetravel", key, json={"query": "capybara enclosure", "at": moment})
        assert r.status_code == 200, r.text
        return [x["id"] for x in r.json()["results"]]

    assert at(before_update) == [old]
    assert at(middle) == [new_id]
    assert at("2999-01-01T00:00:00Z") == []  # trashed since
    assert at("2000-01-01T00:00:00Z") == []  # not yet written


def test_signals_are_stored_with_the_memory_and_purged_with_it(api: Api) -> None:
    key = api.admin_key
    mid = api.store(key, "I prefer green tea in the morning. I decided to learn the cello.")
    body = api.call("GET", "/personality/signals", key).json()
    assert {s["type"] for s in body["signals"]} == {"preference", "decision"}
    assert all(s["memory_id"] == mid for s in body["signals"])
    assert api.call("GET", "/personality/signals?type=decision", key).json()["count"] == 1
    synth = api.call("POST", "/profile/synthesize", key).json()
    assert synth["profile"]["preference"][0]["subject"].startswith("green tea")
    assert api.call("GET", "/profile", key).json()["synthesized"] is True
    other = api.user("eve")
    assert api.call("GET", "/personality/signals", other).json()["count"] == 0
    api.call("DELETE", f"/memory/{mid}", key)
    assert api.call("GET", "/personality/signals", key).json()["count"] == 0
    detect = api.call("POST", "/personality/detect", key, json={"text": "I love jazz"}).json()
    assert detect["signals"][0]["type"] == "preference"


def test_faceted_counts_and_filters(api: Api) -> None:
    key = api.admin_key
    for i in range(6):
        api.store(key, f"Lemur memo {i} {i * 13}k {i * 29}p {i * 41}w", category="zoo" if i % 2 else "work",
                  tags=["a", "b"] if i < 3 else ["c"],
                  importance=i + 3)  # fmt: skip
    body = api.call("POST", "/search/faceted", key, json={"tags_any": ["a", "c"], "tags_none": ["b"],
                                                          "importance_min": 6}).json()  # fmt: skip
    assert body["facets"]["total"] == 3 and body["facets"]["tags"] == {"c": 3}
    assert len(body["results"]) == 3
    searched = api.call("POST", "/search/faceted", key, json={"query": "lemur memo", "category": "zoo"}).json()
    assert searched["facets"]["category"] == {"zoo": 3} and len(searched["results"]) == 3


def test_include_links_never_shows_a_hidden_linked_memory(api: Api) -> None:
    key = api.admin_key
    seed = api.store(key, "heron habitat survey along the estuary")
    superseded = api.store(key, "the survey team meets on mondays")
    expiring = api.store(key, "temporary parking permit for the survey van", forget_after="2999-01-01T00:00:00Z")
    for target in (superseded, expiring):
        r = api.call("POST", "/links", key, json={"source_id": seed, "target_id": target, "link_type": "related"})
        assert r.status_code in (200, 201), r.text

    def linked() -> set[int]:
        r = api.call("POST", "/search", key, json={"query": "heron estuary survey", "include_links": True})
        hit = next(h for h in r.json()["results"] if h["id"] == seed)
        return {link["id"] for link in hit["linked"]}

    assert linked() == {superseded, expiring}
    api.call("POST", f"/memory/{superseded}/update", key, json={"content": "the survey team meets on fridays"})
    engram = api.client.app.state.engram  # type: ignore[attr-defined]
    engram.db.write(
        lambda c: c.execute(
            "UPDATE memories SET forget_after = '2000-01-01T00:00:00.000000Z' WHERE id = ?", (expiring,)
        )
    )
    assert linked() == set()  # an old version and an expired memory stay hidden behind a link too


def test_timetravel_vector_channel_sees_current_and_replaced_versions(api: Api) -> None:
    # Paraphrases only (no word in common with the query): the vector channel alone must find them,
    # the current version through the in-memory index, the replaced one from its stored vector.
    engram = engram_of(api)
    engram.embedder = HashEmbedder()
    key = api.admin_key
    for i in range(8):
        api.store(key, f"Filler note {i} {i * 17}q {i * 31}r about the garden")
    old = api.store(key, "I purchased an automobile")
    dog = api.store(key, "We acquired a puppy")
    embed_all(engram)
    time.sleep(0.01)
    before = api.call("GET", f"/memory/{old}", key).json()["updated_at"]
    time.sleep(0.01)
    new_id = api.call("POST", f"/memory/{old}/update", key, json={"content": "I purchased a vehicle"}).json()["new_id"]
    embed_all(engram)

    def at(moment: str, query: str) -> list[int]:
        r = api.call("POST", "/timetravel", key, json={"query": query, "at": moment, "limit": 3})
        assert r.status_code == 200, r.text
        return [x["id"] for x in r.json()["results"] if "vector" in x["channels"]]

    assert at(before, "bought car")[:1] == [old]  # replaced since: not in the index
    assert at("2999-01-01T00:00:00Z", "bought car")[:1] == [new_id]
    assert at("2999-01-01T00:00:00Z", "canine")[:1] == [dog]  # current: from the index
