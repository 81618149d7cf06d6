"""Facts, contradictions, decomposition and affect through the API (TestClient, real SQLite, no model)."""

from __future__ import annotations

from typing import Any

from tests.helpers import Api


def _drain(api: Api) -> None:
    portal = api.client.portal
    assert portal is not None
    portal.call(api.engram.jobs.drain)


def _moves(api: Api, key: str) -> list[int]:
    ids = [
        api.store(key, "I live in Paris.", created_at="2024-01-10T09:00:00Z"),
        api.store(key, "I moved to Lyon.", created_at="2024-06-01T09:00:00Z"),
        api.store(key, "I moved to Berlin.", created_at="2025-02-01T09:00:00Z"),
    ]
    _drain(api)
    return ids


def test_paris_lyon_berlin_two_contradictions_current_berlin_nothing_deleted(api: Api) -> None:
    paris, lyon, berlin = _moves(api, api.admin_key)
    found = api.call("GET", "/contradictions", api.admin_key).json()["contradictions"]
    pairs = {(c["memory_a"], c["memory_b"]) for c in found}
    assert pairs == {(lyon, paris), (berlin, lyon)}
    assert all(c["supersedes"] and c["kind"] == "update" for c in found)
    current = api.call("GET", "/facts", api.admin_key, params={"subject": "user", "predicate": "lives_in"}).json()
    assert [f["object"] for f in current["facts"]] == ["Berlin"]
    past = api.call("GET", "/facts", api.admin_key, params={"predicate": "lives_in", "as_of": "2024-03-01T00:00:00Z"})
    assert [f["object"] for f in past.json()["facts"]] == ["Paris"]
    history = api.call("GET", "/facts", api.admin_key, params={"history": "true"}).json()["facts"]
    by_object = {f["object"]: f for f in history}
    assert by_object["Paris"]["invalid_at"].startswith("2024-06-01")
    assert by_object["Lyon"]["superseded_by"] == by_object["Berlin"]["id"]
    for mid in (paris, lyon, berlin):  # nothing deleted
        assert api.call("GET", f"/memory/{mid}", api.admin_key).status_code == 200
    links = api.call("GET", f"/links/{berlin}", api.admin_key).json()["outgoing"]
    assert {(ln["target_id"], ln["link_type"]) for ln in links} >= {(lyon, "contradicts"), (lyon, "supersedes")}
    of_paris = api.call("GET", f"/contradictions/{paris}", api.admin_key).json()["contradictions"]
    assert [(c["memory_a"], c["memory_b"]) for c in of_paris] == [(lyon, paris)]
    # Search down-ranks the superseded memories: Berlin first when all three match alike.
    results = api.call("POST", "/search", api.admin_key, json={"query": "Paris Lyon Berlin"}).json()["results"]
    assert results and results[0]["id"] == berlin
    profile = api.call("GET", "/profile", api.admin_key).json()
    assert profile["facts"]["lives_in"] == "Berlin"


def test_out_of_order_import_lands_in_the_right_place(api: Api) -> None:
    berlin = api.store(api.admin_key, "I moved to Berlin.", created_at="2025-02-01T09:00:00Z")
    paris = api.store(api.admin_key, "I live in Paris.", created_at="2024-01-10T09:00:00Z")
    _drain(api)
    lyon = api.store(api.admin_key, "I moved to Lyon.", created_at="2024-06-01T09:00:00Z")
    _drain(api)
    found = api.call("GET", "/contradictions", api.admin_key).json()["contradictions"]
    assert {(c["memory_a"], c["memory_b"]) for c in found} == {(lyon, paris), (berlin, lyon)}


def test_decomposition_on_store_makes_searchable_facts_and_folds_them(api: Api) -> None:
    parent = api.store(
        api.admin_key,
        "Hi there! I adopted a greyhound named Comet last spring. My sister teaches violin in Oslo. Thanks!",
    )
    _drain(api)
    memory = api.call("GET", f"/links/{parent}", api.admin_key).json()
    children = [ln["target_id"] for ln in memory["outgoing"] if ln["link_type"] == "has_fact"]
    assert len(children) == 2
    texts = {api.call("GET", f"/memory/{c}", api.admin_key).json()["content"] for c in children}
    assert texts == {"I adopted a greyhound named Comet last spring.", "My sister teaches violin in Oslo."}
    child = api.call("GET", f"/memory/{children[1]}", api.admin_key).json()
    assert child["category"] == "fact"
    assert api.call("POST", f"/intelligence/decompose/{parent}", api.admin_key).json()["child_ids"] == children
    results = api.call("POST", "/search", api.admin_key, json={"query": "violin Oslo sister"}).json()["results"]
    ids = [r["id"] for r in results]
    assert ids[0] == children[1] and results[0]["fact_of"] == parent
    assert parent not in ids  # folded into its best-ranked fact


def test_a_family_shows_its_best_ranked_member_and_the_fact_on_a_tie(api: Api) -> None:
    """The fold, on the rows a decomposition made: the tie the live test hit (the parent first in one channel,
    its fact first in another) shows the fact, and the graph channel's hit of a fact folds into its family."""
    from engram_core.search.filters import search_scope
    from engram_core.search.fold import fold_hits, fold_lists

    parent = api.store(
        api.admin_key, "Hi! I adopted a greyhound named Comet last spring. My sister teaches violin in Oslo."
    )
    other = api.store(api.admin_key, "The wombat report is due on Friday")
    _drain(api)
    dog, violin = api.call("POST", f"/intelligence/decompose/{parent}", api.admin_key).json()["child_ids"]
    scope = search_scope(1, {})

    def fold(lists: dict[str, list[tuple[int, float]]]) -> tuple[dict[str, list[int]], dict[int, int]]:
        folded, families = api.engram.db.read(lambda conn: fold_lists(conn, scope, lists))
        return {c: [i for i, _ in hits] for c, hits in folded.items()}, {f: families.member(f) for f in (parent, other)}

    tie = {"vector": [(parent, 0.9), (violin, 0.8), (other, 0.5)], "fts": [(violin, 2.0), (parent, 1.0)]}
    assert fold(tie) == ({"vector": [parent, other], "fts": [parent]}, {parent: violin, other: other})
    led = {"vector": [(parent, 0.9), (violin, 0.8)], "fts": [(parent, 2.0), (dog, 1.5), (violin, 1.0)]}
    assert fold(led)[1] == {parent: parent, other: other}  # the parent leads both channels: it shows
    facts = {"vector": [(dog, 0.9), (parent, 0.8)], "fts": [(violin, 2.0), (parent, 1.9)]}
    assert fold(facts)[1][parent] == dog  # two facts tie: the lower id
    later = {"vector": [(other, 0.9), (violin, 0.8)], "fts": [(parent, 2.0)]}
    assert fold(later)[1][parent] == parent  # the parent's rank 0 beats its fact's rank 1
    graph = [(violin, 1.0), (other, 0.7), (dog, 0.5)]
    hits = api.engram.db.read(lambda conn: fold_hits(conn, scope, graph, set()))
    assert hits == [(parent, 1.0), (other, 0.7)]
    assert api.engram.db.read(lambda conn: fold_hits(conn, scope, graph, {parent})) == [(other, 0.7)]


def test_one_statement_is_not_decomposed(api: Api) -> None:
    mid = api.store(api.admin_key, "Hey! I live in a small flat near the harbour. Thanks so much!")
    _drain(api)
    r = api.call("POST", f"/intelligence/decompose/{mid}", api.admin_key)
    assert r.status_code == 200 and r.json()["child_ids"] == []


def test_valence_is_scored_on_store(api: Api) -> None:
    happy = api.store(api.admin_key, "I am so happy and excited about the wonderful trip!")
    sad = api.store(api.admin_key, "I feel sad and lonely since the funeral.")
    _drain(api)
    h = api.call("GET", f"/intelligence/valence/{happy}", api.admin_key).json()
    s = api.call("GET", f"/intelligence/valence/{sad}", api.admin_key).json()
    assert h["valence"] > 0.5 and s["valence"] < -0.3 and h["arousal"] > s["arousal"]
    r = api.call("POST", "/intelligence/valence/score", api.admin_key, json={"text": "not happy at all"})
    assert r.json()["valence"] < 0


def test_text_contradiction_by_negation_and_scan(api: Api) -> None:
    old = api.store(api.admin_key, "The staging server accepts password logins.")
    new = api.store(api.admin_key, "The staging server does not accept password logins.")
    _drain(api)
    found = api.call("GET", f"/contradictions/{old}", api.admin_key).json()["contradictions"]
    assert [(c["memory_a"], c["memory_b"], c["kind"]) for c in found] == [(new, old, "negation")]
    scanned = api.call("POST", "/contradictions", api.admin_key).json()
    assert scanned["scanned"] == 2 and scanned["count"] == 1


def test_sweep_decomposes_what_was_stored_before(api: Api, monkeypatch: Any) -> None:
    settings = api.engram.settings
    object.__setattr__(settings, "decompose_max_facts", 0)  # stored while decomposition was off
    parent = api.store(
        api.admin_key, "I play chess at the club on Sundays. My brother repairs old valve radios in his garage."
    )
    _drain(api)
    object.__setattr__(settings, "decompose_max_facts", 10)
    job = api.call("POST", "/admin/decompose-sweep", api.admin_key)
    assert job.status_code == 202
    _drain(api)
    done = api.call("GET", "/jobs", api.admin_key, params={"status": "done"}).json()["jobs"]
    sweep = next(j for j in done if j["id"] == job.json()["id"])
    assert sweep["progress"] == 1.0 and sweep["result"]["decomposed"] == 1
    children = api.call("POST", f"/intelligence/decompose/{parent}", api.admin_key).json()["child_ids"]
    assert len(children) == 2


def test_context_includes_structured_facts(api: Api) -> None:
    _moves(api, api.admin_key)
    body = {"query": "where does the user live", "include_structured_facts": True, "include_recent": False}
    r = api.call("POST", "/context", api.admin_key, json=body).json()
    assert "user lives in: Berlin (since 2025-02-01)" in r["context"]
    assert "Paris (since" not in r["context"]  # superseded facts are not current
    without = api.call("POST", "/context", api.admin_key, json={**body, "include_structured_facts": False}).json()
    assert "lives in:" not in without["context"]


def test_a_pronoun_fact_is_stored_with_the_name_and_its_structured_fact(api: Api) -> None:
    parent = api.store(
        api.admin_key, "My sister Alice lived in Oslo for ten years with her cats. She moved to Berlin last year."
    )
    _drain(api)
    links = api.call("GET", f"/links/{parent}", api.admin_key).json()["outgoing"]
    children = [ln["target_id"] for ln in links if ln["link_type"] == "has_fact"]
    texts = [api.call("GET", f"/memory/{c}", api.admin_key).json()["content"] for c in children]
    assert "Alice moved to Berlin last year." in texts
    facts = api.call("GET", "/facts", api.admin_key, params={"subject": "alice"}).json()["facts"]
    assert {(f["predicate"], f["object"]) for f in facts} >= {("lives_in", "Berlin")}


def test_growth_observations_follow_the_timeline(api: Api) -> None:
    paris, lyon, berlin = _moves(api, api.admin_key)
    found = api.call("GET", "/growth/observations", api.admin_key).json()
    assert found["count"] == 2
    newest, older = found["observations"]
    assert (newest["from"], newest["to"], newest["to_memory_id"]) == ("Lyon", "Berlin", berlin)
    assert newest["text"] == "You moved from Lyon to Berlin" and newest["changed_at"].startswith("2025-02-01")
    assert (older["from_memory_id"], older["to_memory_id"]) == (paris, lyon)
    only = api.call("GET", "/growth/observations", api.admin_key, params={"predicate": "works_at"}).json()
    assert only["observations"] == []
    assert api.call("GET", "/growth/observations", api.admin_key, params={"limit": 0}).status_code == 400
    other = api.user("other")
    assert api.call("GET", "/growth/observations", other).json()["observations"] == []
    api.call("DELETE", f"/memory/{berlin}", api.admin_key)  # a trashed memory's change is no observation
    left = api.call("GET", "/growth/observations", api.admin_key).json()["observations"]
    assert [(o["from"], o["to"]) for o in left] == [("Paris", "Lyon")]
