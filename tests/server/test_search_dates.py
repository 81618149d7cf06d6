"""Old real dates through POST /search (default tuning); the levers themselves: tests/core/search/test_rescore.py."""

from __future__ import annotations

from tests.helpers import Api


def _ids(api: Api, key: str, query: str) -> list[int]:
    r = api.call("POST", "/search", key, json={"query": query, "limit": 10})
    assert r.status_code == 200, r.text
    return [int(x["id"]) for x in r.json()["results"]]


def _filler(i: int) -> str:
    return " ".join(f"{w}{i * 5 + j}q" for j, w in enumerate(("kilo", "lima", "mike", "oscar")))


def test_an_old_matching_memory_ranks_above_fresh_unrelated_ones(api: Api) -> None:
    key = api.admin_key
    for i in range(8):
        api.store(key, f"Weekly notes {_filler(i)} about the budget")
    old = api.store(key, "Rosalind adopted a greyhound called Pepper", created_at="2023-05-08T13:56:00Z")
    assert _ids(api, key, "What is the name of Rosalind's greyhound?")[0] == old


def test_a_nonsense_query_abstains_and_a_real_one_does_not(api: Api) -> None:
    key = api.admin_key
    for i in range(5):
        api.store(key, f"Weekly notes {_filler(i)} about the budget")
    api.store(key, "Rosalind adopted a greyhound called Pepper")
    nonsense = api.call("POST", "/search", key, json={"query": "zxqv wvbn plgh"}).json()
    real = api.call("POST", "/search", key, json={"query": "Rosalind greyhound"}).json()
    assert nonsense["abstained"] and nonsense["top_score"] < 0.25
    assert not real["abstained"] and real["top_score"] >= 0.25
    kept = api.call("POST", "/search", key, json={"query": "zxqv wvbn plgh", "threshold": 0.25}).json()
    assert kept["results"] == []
