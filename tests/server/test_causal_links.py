"""Causal links through the API: "because" to another memory, a leading "As a result" to the memory before
it in the session, within one memory's facts, and no link when no memory states the cause."""

from __future__ import annotations

from tests.helpers import Api


def _drain(api: Api) -> None:
    portal = api.client.portal
    assert portal is not None
    portal.call(api.engram.jobs.drain)


def _caused_by(api: Api, key: str, memory_id: int) -> set[int]:
    links = api.call("GET", f"/links/{memory_id}", key).json()["outgoing"]
    return {ln["target_id"] for ln in links if ln["link_type"] == "caused_by"}


def test_causal_links_between_memories_and_within_facts(api: Api) -> None:
    key = api.admin_key
    offer = api.store(key, "I got a job offer at Zalando in Berlin.")
    move = api.store(key, "I moved to Berlin because I got a job offer at Zalando.")
    lost = api.store(key, "I lost my job at the bank in March.", session_id="s1")
    home = api.store(key, "As a result, I moved back in with my parents.", session_id="s1")
    alone = api.store(key, "I sold my bike because the rent went up.")
    wrist = api.store(key, "I broke my wrist skiing in February. As a result, I could not play the piano for months.")
    _drain(api)
    assert _caused_by(api, key, move) == {offer}
    assert _caused_by(api, key, home) == {lost}
    assert _caused_by(api, key, alone) == set()  # no memory states the cause: no link
    # the inverse ("what did the offer cause") is the same link, incoming on the cause
    incoming = api.call("GET", f"/links/{offer}", key).json()["incoming"]
    assert {(ln["source_id"], ln["link_type"]) for ln in incoming} >= {(move, "caused_by")}
    facts = [ln["target_id"] for ln in api.call("GET", f"/links/{wrist}", key).json()["outgoing"]
             if ln["link_type"] == "has_fact"]  # fmt: skip
    assert len(facts) == 2
    texts = [api.call("GET", f"/memory/{f}", key).json()["content"] for f in facts]
    assert texts[1] == "I could not play the piano for months."  # the connective is the link, not the fact
    assert _caused_by(api, key, facts[1]) == {facts[0]}
    # the graph route shows the edge with its type
    hood = api.call("GET", f"/graph/neighborhood/{move}", key).json()
    assert any(e.get("link_type") == "caused_by" for e in hood.get("edges", hood.get("links", []))), hood


def test_a_cause_stored_after_its_effect_is_linked(api: Api) -> None:
    key = api.admin_key
    sold = api.store(key, "I sold my car because parking in the city costs too much.")
    _drain(api)
    cause = api.store(key, "Parking in the city costs too much.")
    _drain(api)
    assert _caused_by(api, key, sold) == {cause}
    other = api.user("other")  # another user's key sees none of it
    assert api.call("GET", f"/links/{sold}", other).status_code == 404


def test_an_undecomposed_memory_reads_its_bm25_neighbours_once(api: Api, monkeypatch) -> None:
    """The contradiction check and the causal links of a memory that is its own only unit share one BM25
    read (both ask for the same text's neighbours); a decomposed memory reads per fact, then its whole text."""
    from engram_core.intelligence import understanding

    calls: list[str] = []
    real = understanding._near

    def counting(conn, user_id, text, exclude):  # type: ignore[no-untyped-def]
        calls.append(text)
        return real(conn, user_id, text, exclude)

    monkeypatch.setattr(understanding, "_near", counting)
    key = api.admin_key
    cause = api.store(key, "Parking in the city costs too much.")
    _drain(api)
    calls.clear()
    sold = api.store(key, "I sold my car because parking in the city costs too much.")
    _drain(api)
    assert calls == ["I sold my car because parking in the city costs too much."]
    assert _caused_by(api, key, sold) == {cause}  # the shared read still finds the cause
