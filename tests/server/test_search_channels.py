"""Each channel finds what only it can find; explain, filters, cache, adversarial input (through the API)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.helpers import Api
from tests.search_support import HashEmbedder, embed_all, engram_of


def _filler(i: int) -> str:
    """Distinct words per memory, so the near-duplicate check (SimHash) never merges the fixtures."""
    return " ".join(f"{w}{i * 7 + j}x" for j, w in enumerate(("alpha", "bravo", "delta", "echo", "gamma")))


NOISE = [f"Notes from meeting {_filler(i)} about the weekly schedule and budget" for i in range(12)]


def _search(api: Api, key: str, path: str = "/search", **body: Any) -> Any:
    r = api.call("POST", path, key, json=body)
    assert r.status_code == 200, r.text
    return r.json()


def _by_id(results: list[dict[str, Any]], mid: int) -> dict[str, Any]:
    found = [r for r in results if r["id"] == mid]
    assert found, (mid, [r["id"] for r in results])
    return found[0]


def _seed(api: Api, key: str) -> None:
    for text in NOISE:
        api.store(key, text)


def test_fts_finds_an_exact_rare_token(api: Api) -> None:
    key = api.admin_key
    _seed(api, key)
    mid = api.store(key, "The deploy token is qx7vzt9 for staging")
    hit = _by_id(_search(api, key, query="qx7vzt9")["results"], mid)
    assert hit["channels"] == ["fts"] and hit["search_type"] == "fts" and hit["fts_score"] > 0


def test_vector_finds_a_paraphrase(api: Api) -> None:
    engram = engram_of(api)
    engram.embedder = HashEmbedder()
    key = api.admin_key
    _seed(api, key)
    mid = api.store(key, "I purchased an automobile last spring")
    embed_all(engram)
    hit = _by_id(_search(api, key, query="bought car")["results"], mid)
    assert hit["channels"] == ["vector"] and hit["semantic_score"] > 0.5


def test_graph_finds_a_linked_memory(api: Api) -> None:
    engram = engram_of(api)
    key = api.admin_key
    _seed(api, key)
    seed = api.store(key, "The outage of the quokka cluster started on Monday")
    linked = api.store(key, "Disk firmware was rolled back across the fleet")
    engram.db.write(lambda c: c.execute(
        "INSERT INTO memory_links (user_id, source_id, target_id, link_type, weight, created_at)"
        " VALUES (1, ?, ?, 'caused_by', 1.0, '2024-01-01T00:00:00.000000Z')", (seed, linked)))  # fmt: skip
    results = _search(api, key, query="quokka outage")["results"]
    assert _by_id(results, seed)["channels"] == ["fts"]
    hit = _by_id(results, linked)
    assert hit["channels"] == ["graph"] and hit["graph_score"] > 0


def test_personality_finds_a_stated_preference(api: Api) -> None:
    key = api.admin_key
    _seed(api, key)
    mid = api.store(key, "I really love sushi with friends")
    hit = _by_id(_search(api, key, query="What food does the user enjoy most?")["results"], mid)
    assert hit["channels"] == ["personality"] and hit["question_type"] == "preference"


ADVERSARIAL = ['"', '""', "'", "NEAR(a b)", "a NEAR b", "*", "a*", "^start", "content:secret", "tags:x OR 1",
               "(((", "AND OR NOT", "-", "\\", "🙂 emoji 漢字", "\u202e reversed", "%_", "x" * 5000,
               "!@#$%^&*()" * 1000, '"unterminated', "col:umn:filter", "NOT", "a AND (b OR"]  # fmt: skip


@pytest.mark.parametrize("query", ADVERSARIAL, ids=range(len(ADVERSARIAL)))
def test_adversarial_fts_input_never_errors(api: Api, query: str) -> None:
    api.store(api.admin_key, "content secret near start tags")
    for path in ("/search", "/search/explain", "/search/faceted", "/recall", "/context", "/timetravel"):
        r = api.call("POST", path, api.admin_key, json={"query": query})
        assert r.status_code == 200, (path, r.text)


def test_filters_return_limit_results_when_they_exist(api: Api) -> None:
    engram = engram_of(api)
    engram.embedder = HashEmbedder()
    key = api.admin_key
    for i in range(70):
        api.store(key, f"kiwi kiwi kiwi orchard harvest report {_filler(i)}", category="noise")
    wanted = {api.store(key, f"kiwi note {_filler(100 + i)}", category="target", tags=["keep"]) for i in range(12)}
    embed_all(engram)
    for body in ({"category": "target"}, {"tags": ["keep"]}):
        results = _search(api, key, query="kiwi orchard harvest", limit=10, **body)["results"]
        assert len(results) == 10 and {r["id"] for r in results} <= wanted


def test_explain_has_every_channel_rank_and_every_multiplier(api: Api) -> None:
    engram = engram_of(api)
    engram.embedder = HashEmbedder()
    key = api.admin_key
    _seed(api, key)
    a = api.store(key, "I love the quokka budget meeting")
    b = api.store(key, "Follow-up actions were assigned to Dana")
    engram.db.write(lambda c: c.execute(
        "INSERT INTO memory_links (user_id, source_id, target_id, link_type, weight, created_at)"
        " VALUES (1, ?, ?, 'extends', 1.0, '2024-01-01T00:00:00.000000Z')", (a, b)))  # fmt: skip
    embed_all(engram)
    body = _search(api, key, "/search/explain", query="Which quokka budget meeting do I love?", limit=30)
    stages = {"embed_ms", "keyword_ms", "channels_ms", "graph_ms", "fuse_ms", "rerank_ms", "total_ms"}
    assert set(body["timings"]) >= stages
    assert body["strategy"]["weights"] and body["vector_search"]["enabled"]
    top = next(e for e in body["explain"] if e["id"] == a)
    assert set(top["channels"]) - {"expand"} == {"vector", "fts", "personality"}
    for info in top["channels"].values():
        assert info["rank"] >= 1 and "score" in info and info["contribution"] > 0
    assert set(top["multipliers"]) == {
        "retrievability",
        "source_count",
        "static",
        "pagerank",
        "temporal",
        "outdated",
        "feedback",
        "name",
    }
    graph = next(e for e in body["explain"] if e["id"] == b)
    assert "graph" in graph["channels"]


def test_cache_is_invalidated_by_a_write(api: Api) -> None:
    engram = engram_of(api)
    key = api.admin_key
    first = api.store(key, "The wombat report is due")
    assert [r["id"] for r in _search(api, key, query="wombat")["results"]] == [first]
    hits = engram.search.cache.hits
    assert [r["id"] for r in _search(api, key, query="wombat")["results"]] == [first]
    assert engram.search.cache.hits == hits + 1
    second = api.store(key, "Another wombat sighting today")
    assert {r["id"] for r in _search(api, key, query="wombat")["results"]} == {first, second}
    api.call("POST", f"/memory/{first}/forget", key, json={})
    assert [r["id"] for r in _search(api, key, query="wombat")["results"]] == [second]


def test_recalled_hook_gets_the_returned_ids(api: Api) -> None:
    engram = engram_of(api)
    seen: list[tuple[int, list[int]]] = []
    engram.on_recalled = lambda user, ids: seen.append((user, ids))  # type: ignore[attr-defined]
    mid = api.store(api.admin_key, "The heron nested by the lake")
    _search(api, api.admin_key, query="heron")
    _search(api, api.admin_key, "/recall", query="heron")
    assert seen and all(mid in ids for _, ids in seen)


class _LengthReranker:
    """Test fixture: a 'cross-encoder' that prefers shorter documents."""

    def score(self, query: str, docs: list[str]) -> Any:
        import numpy as np

        # On a cross-encoder's 0..1 scale (shortest document 1.0): fused scores now keep real score gaps
        # (the score term of ``fusion.fuse``), so a reranker whose scores are all near 0 could not win.
        shortest = min(len(d) for d in docs)
        return np.asarray([shortest / len(d) for d in docs], dtype=np.float32)


def test_reranker_reorders_the_top_results(tmp_path: Any) -> None:
    from starlette.testclient import TestClient

    from engram_core.settings import Settings
    from engram_server.app import create_app
    from tests.conftest import BOOTSTRAP_SECRET

    settings = Settings.for_data_dir(tmp_path / "d", bootstrap_secret=BOOTSTRAP_SECRET, reranker_enabled=True)
    with TestClient(create_app(settings)) as client:
        api = Api(client, client.post("/bootstrap", json={"secret": BOOTSTRAP_SECRET}).json()["key"])
        long_id = api.store(api.admin_key, "pelican pelican pelican report with many extra words " + _filler(1))
        short_id = api.store(api.admin_key, "pelican note")
        engram_of(api).reranker = _LengthReranker()
        body = _search(api, api.admin_key, "/search/explain", query="pelican")
        assert [r["id"] for r in body["results"]][:2] == [short_id, long_id]
        assert body["results"][0]["search_type"].endswith("+rerank") and "rerank" in body["explain"][0]
        assert body["timings"]["rerank_ms"] >= 0


def test_session_context_brings_the_turn_next_to_a_hit(api: Api) -> None:
    key = api.admin_key
    _seed(api, key)
    before = api.store(key, "We adopted two turtles from the shelter", session_id="chat-1")
    after = api.store(key, "I have had them for three years now", session_id="chat-1")
    far = api.store(key, "Unrelated remark about the rainy weather", session_id="chat-1")
    other = api.store(key, "I have had them fixed twice", session_id="chat-2")
    results = _search(api, key, query="how long turtles")["results"]
    ids = [r["id"] for r in results]
    assert ids[0] == before
    hit = _by_id(results, after)
    assert hit["channels"] == ["session"]
    # window 2: the turn two steps away gets half the share, ranks below the direct neighbour
    assert ids.index(after) < ids.index(far)
    assert other not in ids  # another session's turn is not context


def test_session_context_respects_visibility(api: Api) -> None:
    key = api.admin_key
    hit = api.store(key, "The boiler pressure valve is leaking", session_id="s")
    hidden = api.store(key, "Plumber comes on Tuesday", session_id="s")
    assert api.call("POST", f"/memory/{hidden}/forget", key, json={}).status_code == 200
    ids = [r["id"] for r in _search(api, key, query="boiler valve")["results"]]
    assert ids == [hit]


def test_no_session_no_context(api: Api) -> None:
    key = api.admin_key
    hit = api.store(key, "The boiler pressure valve is leaking")
    api.store(key, "Plumber comes on Tuesday")
    assert [r["id"] for r in _search(api, key, query="boiler valve")["results"]] == [hit]


def test_faceted_counts_follow_writes(api: Api) -> None:
    key = api.admin_key
    api.store(key, "Quarterly budget review notes", category="work")

    def categories() -> dict[str, int]:
        return dict(_search(api, key, "/search/faceted")["facets"]["category"])

    cache = engram_of(api).search.cache
    assert categories() == {"work": 1}
    hits = cache.hits
    assert categories() == {"work": 1} and cache.hits == hits + 1  # served from the cache
    mid = api.store(key, "Marathon training plan for spring", category="sport")
    assert categories() == {"work": 1, "sport": 1}  # the write dropped the cached counts
    assert api.call("DELETE", f"/memory/{mid}", key).status_code == 200
    assert categories() == {"work": 1}


def test_session_context_can_skip_the_facts_of_a_decomposed_turn(api: Api) -> None:
    """``Tuning.context_facts=False``: a decomposed turn's facts (same session and date, the next ids) are not
    its neighbours, so the turn shows once and its real next turn is the direct neighbour."""
    from dataclasses import replace

    from engram_core.search.tuning import Tuning

    api.engram.search.pipeline.tuning = replace(Tuning(), context_facts=False)  # the option (not the default)
    key = api.admin_key
    _seed(api, key)
    turn = api.store(
        key,
        "Hi there! I adopted a greyhound named Comet last spring. My sister teaches violin in Oslo. Thanks!",
        session_id="chat-1",
        created_at="2023-05-08T13:56:00Z",
    )
    portal = api.client.portal
    assert portal is not None
    portal.call(api.engram.jobs.drain)
    facts = [ln["target_id"] for ln in api.call("GET", f"/links/{turn}", key).json()["outgoing"]
             if ln["link_type"] == "has_fact"]  # fmt: skip
    assert len(facts) == 2
    after = api.store(
        key, "He sleeps on the sofa all afternoon", session_id="chat-1", created_at="2023-05-08T13:56:00Z"
    )
    later = api.store(key, "Unrelated remark about the rainy weather", session_id="chat-1",
                      created_at="2023-05-08T13:56:00Z")  # fmt: skip
    results = _search(api, key, query="greyhound Comet")["results"]
    ids = [r["id"] for r in results]
    family = [r["id"] for r in results if r["id"] in {turn, *facts}]
    assert len(family) == 1  # the turn (or one of its facts) shows once, not again as a session neighbour
    assert _by_id(results, after)["channels"] == ["session"]
    assert ids.index(after) < ids.index(later)  # the next turn is the direct neighbour, not a fact


def test_expand_finds_what_the_best_hits_share_and_the_query_does_not_say(api: Api) -> None:
    from dataclasses import replace

    from engram_core.search.tuning import Tuning

    key = api.admin_key
    _seed(api, key)
    shelf = api.store(key, "Tim: My shelf is full of books, mostly fantasy series")
    lent = api.store(key, "Tim: Lent two books to a friend, both fantasy epics")
    saga = api.store(key, "The fantasy saga kept me up all night")  # no word of the query
    results = _search(api, key, query="Which books did Tim buy?")["results"]
    # the default ranks only what the channels found: both hits share "fantasy", the saga is not searched
    assert {shelf, lent} <= {r["id"] for r in results if "expand" in r["channels"]}
    assert saga not in [r["id"] for r in results]
    pipeline = api.engram.search.pipeline
    pipeline.tuning = replace(Tuning(), expand_pool=False)  # corpus-wide: the shared word finds the saga
    try:
        found = _search(api, key, query="What books did Tim buy?")["results"]  # another query: not cached
        assert _by_id(found, saga)["channels"] == ["expand"]
        pipeline.tuning = replace(Tuning(), expand=0.0)
        found = _search(api, key, query="Which books has Tim bought?")["results"]
        assert found and not any("expand" in r["channels"] for r in found)
    finally:
        pipeline.tuning = Tuning()


def test_expand_reads_more_seeds_than_the_graph_takes(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    from dataclasses import replace

    from engram_core.search.pipeline import GRAPH_SEEDS
    from engram_core.search.tuning import Tuning

    key = api.admin_key
    for i in range(GRAPH_SEEDS + 6):
        api.store(key, f"Garden note {_filler(i)}: the tomatoes need water")
    pipeline = api.engram.search.pipeline
    read: list[int] = []
    inner = pipeline._expand

    def spy(conn: Any, scope: Any, query: str, seeds: list[int], *rest: Any) -> Any:
        read.append(len(seeds))
        return inner(conn, scope, query, seeds, *rest)

    monkeypatch.setattr(pipeline, "_expand", spy)
    pipeline.tuning = replace(Tuning(), expand_seeds=GRAPH_SEEDS + 4)
    try:
        assert _search(api, key, query="tomatoes water")["results"]
    finally:
        pipeline.tuning = Tuning()
    assert read == [GRAPH_SEEDS + 4]  # fused once for the expansion's seeds; the graph still takes GRAPH_SEEDS


def test_session_diversity_gives_another_sessions_turn_a_top_slot(api: Api) -> None:
    """``Tuning.session_diversity``: one session's strong turns no longer fill the top alone; off (the default)
    the order is today's."""
    from dataclasses import replace

    from engram_core.search.tuning import Tuning

    key = api.admin_key
    _seed(api, key)
    day = "2023-05-08T13:56:00Z"
    same = [
        api.store(key, f"Tim: the tomatoes in the garden need water {_filler(i)}", session_id="s1", created_at=day)
        for i in range(20, 24)
    ]
    other = api.store(key, f"Tim: the tomatoes need water, says the gardener {_filler(30)}", session_id="s2",
                      created_at=day)  # fmt: skip
    pipeline = api.engram.search.pipeline

    def order(query: str, **tuning: Any) -> list[int]:
        pipeline.tuning = replace(Tuning(), **tuning)
        try:
            return [r["id"] for r in _search(api, key, query=query, limit=5)["results"]]
        finally:
            pipeline.tuning = Tuning()

    default = order("tomatoes garden water")
    assert default == order("water garden tomatoes", session_diversity=0.0)  # off is today's order
    assert set(default[:4]) == set(same) and default[4] == other  # session s1 fills the top four
    diverse = order("tomatoes in the garden water", session_diversity=0.9, session_free=1)  # not cached
    assert diverse[0] == default[0] and diverse[1] == other  # s2's turn right after s1's best
    assert diverse[2:] == default[1:4]  # s1's other turns keep their order below
    two = order("garden tomatoes water", session_diversity=0.9, session_free=2)
    assert two[:2] == default[:2] and two[2] == other  # two turns of a session rank freely
    explained = _search(api, key, "/search/explain", query="the garden tomatoes water", limit=5)["explain"]
    assert all("diversity" not in e["multipliers"] for e in explained)  # off by default
