"""Reflection, consolidation (and its undo), memory health and retrieval feedback over the API."""

from __future__ import annotations

from tests.helpers import Api


def _visible(api: Api, key: str) -> set[int]:
    return {m["id"] for m in api.call("GET", "/list", key).json()["results"]}


def test_consolidate_hides_sources_and_undo_brings_them_back(api: Api) -> None:
    k = api.admin_key
    a = api.store(k, "Sam likes climbing. Sam climbs on Sundays.", tags=["sam"], importance=4)
    b = api.store(k, "Sam climbs on Sundays at the Arkose gym.", tags=["gym"], importance=7)
    r = api.call("POST", "/consolidate", k, json={"memory_ids": [a, b]})
    assert r.status_code == 201, r.text
    new = r.json()["id"]
    merged = api.call("GET", f"/memory/{new}", k).json()
    assert merged["content"].count("Sam climbs on Sundays") == 1 and "Arkose" in merged["content"]
    assert merged["importance"] == 7 and set(merged["tags"]) == {"sam", "gym"}
    assert _visible(api, k) == {new}
    links = api.call("GET", f"/links/{new}", k).json()["outgoing"]
    assert {x["target_id"] for x in links if x["link_type"] == "consolidates"} == {a, b}
    assert api.call("GET", "/memory-health", k).json()["consolidated"] == 2
    undo = api.call("POST", f"/consolidate/{new}/undo", k)
    assert undo.status_code == 200 and set(undo.json()["restored"]) == {a, b} and undo.json()["trashed"]
    assert _visible(api, k) == {a, b}
    assert api.call("POST", f"/consolidate/{new}/undo", k).status_code == 404  # in the trash now


def test_consolidate_refuses_bad_ids(api: Api) -> None:
    k = api.admin_key
    a = api.store(k, "one memory")
    assert api.call("POST", "/consolidate", k, json={"memory_ids": [a]}).json()["field"] == "memory_ids"
    r = api.call("POST", "/consolidate", k, json={"memory_ids": [a, 999999]})
    assert r.status_code == 404 and _visible(api, k) == {a}
    assert api.call("POST", "/consolidate", k, json={"memory_ids": [a, 1.5]}).json()["field"] == "memory_ids[1]"
    other = api.user("other")
    assert api.call("POST", "/consolidate", other, json={"memory_ids": [a, a + 1]}).status_code == 404


def test_reflect_given_and_about_a_period(api: Api) -> None:
    k = api.admin_key
    ids = [api.store(k, t, importance=i) for t, i in (("I started learning Rust this week", 8),
                                                        ("Rust borrow checker errors are confusing", 5),
                                                        ("I wrote my first Rust CLI tool", 6))]  # fmt: skip
    r = api.call("POST", "/reflect", k, json={"content": "Learning Rust is going well", "source_memory_ids": ids})
    assert r.status_code == 201 and r.json()["source_memory_ids"] == ids
    auto = api.call("POST", "/reflect", k, json={"period": "week"})
    assert auto.status_code == 201, auto.text
    body = auto.json()
    assert set(ids) <= set(body["source_memory_ids"]) and "3 memories" in body["content"] and "rust" in body["content"]
    listed = api.call("GET", "/reflections", k).json()["reflections"]
    assert [x["id"] for x in listed] == [body["id"], r.json()["id"]]
    assert api.call("POST", "/reflect", api.user("empty"), json={"period": "day"}).status_code == 404


def test_feedback_moves_the_memory_in_search(api: Api) -> None:
    k = api.admin_key
    a = api.store(k, "The garden hose is in the blue shed")
    b = api.store(k, "The garden rake is in the blue shed")

    def order() -> list[int]:
        return [x["id"] for x in api.call("POST", "/search", k, json={"query": "garden blue shed"}).json()["results"]]

    first = order()
    assert set(first) == {a, b}
    loser = first[0]
    for _ in range(3):
        assert api.call("POST", "/feedback", k, json={"memory_id": loser, "rating": "outdated"}).status_code == 201
    assert order()[0] != loser
    stats = api.call("GET", "/feedback/stats", k).json()
    assert stats["outdated"] == 3 and stats["total"] == 3 and stats["memories"][0]["feedback_score"] == -5
    assert api.call("POST", "/feedback", k, json={"memory_id": a, "rating": "great"}).json()["field"] == "rating"
    assert api.call("POST", "/feedback", api.user("x"), json={"memory_id": a, "rating": "helpful"}).status_code == 404


def test_memory_health_counts(api: Api) -> None:
    k = api.admin_key
    a = api.store(k, "Dentist appointment on the 3rd")
    body = api.call("GET", "/memory-health", k).json()
    assert body["total_memories"] == 1 and body["unlinked"] == {"count": 1, "ids": [a]}
    assert body["never_recalled"]["ids"] == [a] and body["duplicates"]["count"] == 0
    assert body["embedding_coverage_pct"] == 0.0 and body["without_embeddings"] == 1
