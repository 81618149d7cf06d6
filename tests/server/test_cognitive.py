"""The cognitive core through the API: implicit and explicit FSRS reviews, auto-links, PageRank, Louvain,
dedup, all per user."""

from __future__ import annotations

import math
import time
from collections.abc import Iterator
from typing import Any

import pytest
from starlette.testclient import TestClient

from engram_core.settings import Settings
from engram_server.app import create_app
from tests.conftest import BOOTSTRAP_SECRET
from tests.helpers import Api
from tests.support.tiny_models import install_tiny_model

OLD = "2020-01-01T00:00:00Z"


@pytest.fixture
def fast(settings: Settings) -> Iterator[Api]:
    """The app with a tiny embedding model (dim 32) and a fast implicit-review flush."""
    install_tiny_model(settings.models_dir)
    tuned = settings.replace(review_flush_seconds=0.05)
    with TestClient(create_app(tuned), raise_server_exceptions=False) as client:
        r = client.post("/bootstrap", json={"secret": BOOTSTRAP_SECRET})
        yield Api(client, r.json()["key"])


def _vec(*hot: tuple[int, float]) -> list[float]:
    v = [0.0] * 32
    for i, x in hot:
        v[i] = x
    return v


def _wait(fn: Any, timeout: float = 10.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = fn()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError("condition not met in time")


def test_recall_through_search_raises_stability(fast: Api) -> None:
    key = fast.admin_key
    mid = fast.store(key, "The gate code of the lab is 7781", created_at=OLD)
    before = fast.call("GET", "/fsrs/state", key, params={"id": mid}).json()
    assert before["fsrs"]["reps"] == 1 and before["retrievability"] < 0.9
    hits = fast.call("POST", "/search", key, json={"query": "lab gate code"}).json()["results"]
    assert [h["id"] for h in hits] == [mid]
    after = _wait(
        lambda: (s := fast.call("GET", "/fsrs/state", key, params={"id": mid}).json())["fsrs"]["reps"] == 2 and s
    )
    assert after["fsrs"]["stability"] > before["fsrs"]["stability"]
    assert after["retrievability"] > 0.99 and after["fsrs"]["storage_strength"] > before["fsrs"]["storage_strength"]


def test_forget_and_archive_record_again(api: Api) -> None:
    key = api.admin_key
    a = api.store(key, "Old fact one about the boiler", created_at=OLD)
    b = api.store(key, "Old fact two about the garden hose", created_at=OLD)
    assert api.call("POST", f"/memory/{a}/forget", key, json={}).status_code == 200
    assert api.call("POST", f"/memory/{b}/archive", key).status_code == 200
    for mid in (a, b):
        fsrs = api.call("GET", "/fsrs/state", key, params={"id": mid}).json()["fsrs"]
        assert fsrs["reps"] == 2 and fsrs["lapses"] == 1 and fsrs["learning_state"] == "relearning"


def test_explicit_review_and_decay_routes(api: Api) -> None:
    key = api.admin_key
    mid = api.store(key, "Review me about compilers", created_at=OLD)
    fresh = api.store(key, "A fresh memory about compilers")
    r = api.call("POST", "/fsrs/review", key, json={"id": mid, "grade": 4}).json()
    assert r["id"] == mid and r["fsrs"]["reps"] == 2 and r["fsrs"]["learning_state"] == "review"
    old = api.store(key, "Another faded memory about compilers", created_at=OLD)
    due = api.call("GET", "/fsrs/recall-due", key, params={"topic": "compilers"}).json()["results"]
    assert [d["id"] for d in due] == [old]
    scores = api.call("GET", "/decay/scores", key).json()["results"]
    assert scores[0]["id"] == old and {s["id"] for s in scores} == {mid, fresh, old}
    assert api.call("POST", "/decay/refresh", key).json()["refreshed"] == 3
    assert api.call("POST", "/fsrs/init", key).json() == {"initialized": 0}
    assert api.call("POST", "/fsrs/review", key, json={"id": mid, "grade": 5}).status_code == 400


def test_related_memories_get_similarity_links_per_user(fast: Api) -> None:
    alice, bob = fast.user("alice"), fast.user("bob")
    a = fast.store(alice, "Alice's cat is called Miso", embedding=_vec((0, 1.0), (1, 0.2)))
    b = fast.store(alice, "Miso the cat likes tuna", embedding=_vec((0, 0.9), (1, 0.4)))
    c = fast.store(alice, "The tax form is due in April", embedding=_vec((5, 1.0)))
    x = fast.store(bob, "Bob's cat is also very similar", embedding=_vec((0, 1.0), (1, 0.2)))

    def linked() -> Any:
        out = fast.call("GET", f"/links/{a}", alice).json()["outgoing"]
        return out if out else None

    out = _wait(linked)
    assert [(link["target_id"], link["link_type"]) for link in out] == [(b, "similarity")]
    assert 0.55 <= out[0]["weight"] <= 1.0
    back = fast.call("GET", f"/links/{b}", alice).json()
    assert [link["target_id"] for link in back["outgoing"]] == [a]
    assert fast.call("GET", f"/links/{c}", alice).json()["count"] == 0
    _wait(lambda: [j["kind"] for j in fast.call("GET", "/jobs", bob, params={"status": "done"}).json()["jobs"]]
          .count("autolink") == 1)  # fmt: skip
    assert fast.call("GET", f"/links/{x}", bob).json()["count"] == 0  # never linked to Alice's cat
    assert fast.call("GET", f"/links/{a}", bob).status_code == 404


def _chain(api: Api, key: str, texts: list[str]) -> list[int]:
    return [api.store(key, t) for t in texts]


def _link(api: Api, key: str, s: int, t: int, kind: str = "related") -> None:
    r = api.call("POST", "/links", key, json={"source_id": s, "target_id": t, "link_type": kind})
    assert r.status_code == 201, r.text


def test_pagerank_ranks_a_hub_above_a_leaf(api: Api) -> None:
    alice, bob = api.user("alice"), api.user("bob")
    hub, *leaves = _chain(
        api, alice, ["hub: the project plan", "leaf one budget", "leaf two people", "leaf three risks"]
    )
    for leaf in leaves:
        _link(api, alice, leaf, hub)
    _link(api, alice, hub, leaves[0])
    bob_mem = api.store(bob, "bob's lonely memory")
    ranked = api.call("POST", "/graph/pagerank", alice).json()
    assert ranked["nodes"] == 4 and ranked["edges"] == 4
    pr = {m: api.call("GET", f"/memory/{m}", alice).json()["pagerank"] for m in (hub, *leaves)}
    assert pr[hub] == 1.0 and all(pr[hub] > pr[leaf] for leaf in leaves)
    graph = api.call("GET", "/graph", alice).json()
    assert graph["nodes"][0]["id"] == hub and {n["id"] for n in graph["nodes"]} == {hub, *leaves}
    assert api.call("GET", "/graph", bob).json()["node_count"] == 0
    r = api.call("POST", "/links", bob, json={"source_id": bob_mem, "target_id": hub})
    assert r.status_code == 404
    hood = api.call("GET", f"/graph/neighborhood/{leaves[1]}", alice, params={"depth": 2}).json()
    assert {n["id"] for n in hood["nodes"]} == {hub, *leaves}
    assert api.call("GET", f"/graph/neighborhood/{hub}", bob).status_code == 404
    found = api.call("POST", "/graph/search", alice, json={"query": "project plan", "depth": 1}).json()
    assert found["seeds"] == [hub] and len(found["nodes"]) == 4
    assert api.call("POST", "/graph/search", bob, json={"query": "project plan"}).json()["nodes"] == []
    weeks = api.call("GET", "/graph/timeline", alice).json()
    assert weeks["total_memories"] == 4 and weeks["total_links"] == 4


def _two_cliques(api: Api, key: str, link_type: str = "related") -> tuple[list[int], list[int]]:
    """Two disconnected groups of three memories, every pair within a group linked."""
    left = _chain(api, key, ["red apples", "red cherries", "red strawberries"])
    right = _chain(api, key, ["blue sky", "blue ocean", "blue whale"])
    for group in (left, right):
        for i, s in enumerate(group):
            for t in group[i + 1 :]:
                _link(api, key, s, t, link_type)
    return left, right


def test_louvain_separates_two_disconnected_clusters(api: Api) -> None:
    alice, bob = api.user("alice"), api.user("bob")
    left, right = _two_cliques(api, alice, "extends")
    bob_group = _chain(api, bob, ["bob one", "bob two"])
    _link(api, bob, bob_group[0], bob_group[1])
    r = api.call("POST", "/admin/detect-communities", api.admin_key, json={})
    assert r.status_code == 200 and r.json()["count"] == 2
    comms = api.call("GET", "/communities", alice).json()["communities"]
    assert [c["size"] for c in comms] == [3, 3]
    members = [{m["id"] for m in api.call("GET", f"/communities/{c['id']}", alice).json()["members"]} for c in comms]
    assert sorted(members, key=min) == [set(left), set(right)]
    bob_comms = api.call("GET", "/communities", bob).json()["communities"]
    assert [c["size"] for c in bob_comms] == [2]
    assert all(m["id"] in bob_group for m in bob_comms[0]["top"])
    assert api.call("POST", "/admin/detect-communities", alice, json={}).status_code == 403


def test_typed_links_and_delete(api: Api) -> None:
    key = api.admin_key
    a, b = _chain(api, key, ["the outage", "the bad deploy"])
    _link(api, key, a, b, "caused_by")
    link = api.call("GET", f"/links/{a}", key).json()["outgoing"][0]
    assert link["link_type"] == "caused_by" and link["other"]["id"] == b
    assert (
        api.call("POST", "/links", key, json={"source_id": a, "target_id": b, "link_type": "nope"}).status_code == 400
    )
    assert api.call("DELETE", f"/links/{link['id']}", key).json() == {"deleted": True, "id": link["id"]}
    assert api.call("DELETE", f"/links/{link['id']}", key).status_code == 404


def test_duplicates_and_deduplicate(api: Api) -> None:
    key = api.admin_key
    text = "The production database is backed up every night at 02:00 UTC to cold storage."
    first = api.store(key, text)
    api.call("POST", f"/memory/{first}/forget", key, json={})
    second = api.store(key, text.lower())  # the first is forgotten, so this one is stored
    api.call("POST", f"/memory/{first}/restore", key)
    pairs = api.call("GET", "/duplicates", key).json()["pairs"]
    assert pairs == [{"a": first, "b": second, "distance": 0}]
    dry = api.call("POST", "/deduplicate", key, json={"dry_run": True}).json()
    assert dry["groups"] == [{"kept": first, "merged": [second]}] and api.call("GET", "/list", key).json()["total"] == 2
    done = api.call("POST", "/deduplicate", key, json={}).json()
    assert done["merged_count"] == 1 and api.call("GET", "/list", key).json()["total"] == 1
    kept = api.call("GET", f"/memory/{first}", key).json()
    assert kept["source_count"] == 2
    links = api.call("GET", f"/links/{first}", key).json()["outgoing"]
    assert [(x["target_id"], x["link_type"]) for x in links] == [(second, "consolidates")]
    assert api.call("GET", "/duplicates", key).json()["pairs"] == []


def test_the_scheduler_refreshes_pagerank_after_link_changes(settings: Settings) -> None:
    tuned = settings.replace(pagerank_interval_seconds=0.05, pagerank_link_threshold=1)
    with TestClient(create_app(tuned), raise_server_exceptions=False) as client:
        api = Api(client, client.post("/bootstrap", json={"secret": BOOTSTRAP_SECRET}).json()["key"])
        key = api.admin_key
        hub, leaf = _chain(api, key, ["the hub memory", "the leaf memory"])
        _link(api, key, leaf, hub)
        _wait(lambda: api.call("GET", f"/memory/{hub}", key).json()["pagerank"] == 1.0)
        assert api.call("GET", f"/memory/{leaf}", key).json()["pagerank"] < 1.0
        weeks = api.call("GET", "/graph/timeline", key).json()["weeks"]
        assert len(weeks) == 1 and len(weeks[0]["week_start"]) == 10 and weeks[0]["links"] == 1


def test_graph_filters_by_tag_and_pagerank_and_lists_entities(api: Api) -> None:
    alice, bob = api.user("alice"), api.user("bob")
    hub = api.store(alice, "hub: the garden plan", tags=["Garden"])
    roses, beans = (
        api.store(alice, "roses by the wall", tags=["garden"]),
        api.store(alice, "beans in May", tags=["garden"]),
    )
    car = api.store(alice, "the car needs tyres")
    for leaf in (roses, beans, car):
        _link(api, alice, leaf, hub)
    bob_mem = api.store(bob, "bob's roses")
    _link(api, bob, bob_mem, api.store(bob, "bob's garden", tags=["garden"]))
    r = api.call("POST", "/entities", alice, json={"name": "Roses", "entity_type": "plant", "memory_ids": [roses, hub]})
    assert r.status_code == 201, r.text
    api.call("POST", "/entities", bob, json={"name": "Roses", "entity_type": "plant", "memory_ids": [bob_mem]})
    api.call("POST", "/graph/pagerank", alice)
    tagged = api.call("GET", "/graph", alice, params={"tag": "GARDEN"}).json()
    assert {n["id"] for n in tagged["nodes"]} == {hub, roses, beans} and tagged["edge_count"] == 2
    assert "entities" not in tagged
    ranks = {n["id"]: n["pagerank"] for n in api.call("GET", "/graph", alice).json()["nodes"]}
    top = api.call("GET", "/graph", alice, params={"min_pagerank": ranks[roses] + 1e-9}).json()
    assert top["nodes"] == [] and top["edges"] == []  # no link has both ends above a leaf's rank
    assert api.call("GET", "/graph", alice, params={"min_pagerank": ranks[roses]}).json()["edge_count"] == 3
    withents = api.call("GET", "/graph", alice, params={"entities": "true"}).json()
    assert withents["entities"] == [{"id": r.json()["id"], "name": "Roses", "entity_type": "plant",
                                     "memory_ids": sorted([hub, roses])}] and withents["entity_count"] == 1  # fmt: skip
    bobs = api.call("GET", "/graph", bob, params={"entities": "true", "tag": "garden"}).json()
    assert bobs["node_count"] == 0 and bobs["entities"] == []  # bob's link has one untagged end
    assert api.call("GET", "/graph", bob, params={"entities": "true"}).json()["entities"][0]["memory_ids"] == [bob_mem]
    bad = api.call("GET", "/graph", alice, params={"min_pagerank": "-1"})
    assert bad.status_code == 400 and bad.json()["field"] == "min_pagerank"


def test_graph_positions_group_communities_and_are_cached_until_the_graph_changes(api: Api) -> None:
    alice, bob = api.user("alice"), api.user("bob")
    left, right = _two_cliques(api, alice)
    _link(api, bob, *_chain(api, bob, ["bob one", "bob two"]))
    assert api.call("POST", "/admin/detect-communities", api.admin_key, json={}).status_code == 200
    plain = api.call("GET", "/graph", alice).json()
    assert all("x" not in n for n in plain["nodes"])  # only when asked for
    got = api.call("GET", "/graph", alice, params={"positions": "true"}).json()
    assert {k: v for k, v in got.items() if k != "nodes"} == {k: v for k, v in plain.items() if k != "nodes"}
    assert [{k: v for k, v in n.items() if k not in ("x", "y")} for n in got["nodes"]] == plain["nodes"]
    at = {n["id"]: (n["x"], n["y"]) for n in got["nodes"]}
    assert set(at) == {*left, *right} and len(set(at.values())) == 6
    near = max(math.dist(at[a], at[b]) for g in (left, right) for a in g for b in g)
    assert near < min(math.dist(at[a], at[b]) for a in left for b in right)  # two separate groups
    cache = api.engram.cognitive.graph.layouts
    assert api.call("GET", "/graph", alice, params={"positions": "true"}).json() == got and len(cache) == 1
    _link(api, alice, left[0], right[0])  # the graph changed: a new layout, never the cached one
    again = api.call("GET", "/graph", alice, params={"positions": "true"}).json()
    assert again["edge_count"] == 7 and len(cache) == 2
    bobs = api.call("GET", "/graph", bob, params={"positions": "true"}).json()["nodes"]
    assert len(bobs) == 2 and all("x" in n for n in bobs) and len(cache) == 3
    assert api.call("GET", "/graph", bob, params={"positions": "maybe"}).status_code == 400


def test_communities_list_their_five_best_ranked_visible_members(api: Api) -> None:
    alice = api.user("alice")
    hub, *spokes = _chain(api, alice, [f"star {i}" for i in range(8)])
    pair = _chain(api, alice, ["pair one", "pair two"])
    for i, s in enumerate(spokes):
        _link(api, alice, s, hub)
        for _ in range(i % 3):  # some spokes get links back: distinct ranks
            _link(api, alice, hub, s)
    _link(api, alice, *pair)
    assert api.call("POST", "/graph/pagerank", alice).status_code == 200
    assert api.call("POST", "/admin/detect-communities", api.admin_key, json={}).status_code == 200
    assert api.call("DELETE", f"/memory/{hub}", alice).status_code == 200  # the best-ranked goes to the trash
    star, two = api.call("GET", "/communities", alice).json()["communities"]
    assert (star["size"], two["size"]) == (7, 2)  # the trashed hub is not counted
    rank = {m: api.call("GET", f"/memory/{m}", alice).json()["pagerank"] for m in spokes}
    best = sorted(spokes, key=lambda m: (-rank[m], m))[:5]
    assert [m["id"] for m in star["top"]] == best and hub not in [m["id"] for m in star["top"]]
    assert {m["id"] for m in two["top"]} == set(pair) and all("label" in m for m in star["top"])
