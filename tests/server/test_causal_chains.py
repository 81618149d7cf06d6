"""Causal links by hand and causal chains (POST /intelligence/causal/links, GET /intelligence/causal/chains) and
the growth reflection (POST /growth/reflect), through the API (TestClient, real SQLite, no model)."""

from __future__ import annotations

from tests.helpers import Api

LINKS, CHAINS = "/intelligence/causal/links", "/intelligence/causal/chains"


def _drain(api: Api) -> None:
    portal = api.client.portal
    assert portal is not None
    portal.call(api.engram.jobs.drain)


def _story(api: Api, key: str) -> list[int]:
    """Four memories with no causal words (the rules link nothing): the links are the caller's."""
    texts = ("The server ran out of disk space", "The nightly backup failed", "We lost a day of customer orders",
             "We bought a larger disk")  # fmt: skip
    ids = [api.store(key, text) for text in texts]
    _drain(api)
    return ids


def test_links_make_chains_cause_first(api: Api) -> None:
    key = api.admin_key
    disk, backup, orders, bought = _story(api, key)
    r = api.call("POST", LINKS, key, json={"cause_memory_id": disk, "effect_memory_id": backup, "strength": 0.9})
    assert r.status_code == 201, r.text
    link = r.json()
    assert (link["cause_memory_id"], link["effect_memory_id"], link["link_type"]) == (disk, backup, "caused_by")
    assert (link["source_id"], link["target_id"], link["strength"], link["created"]) == (backup, disk, 0.9, True)
    assert link["chain_id"] == disk
    # The Rust reference's body (chain_id, order_index ignored) and the short names both work.
    rust = {"chain_id": 77, "cause_memory_id": backup, "effect_memory_id": orders, "strength": 0.5, "order_index": 3}
    assert api.call("POST", LINKS, key, json=rust).json()["chain_id"] == disk
    assert api.call("POST", LINKS, key, json={"cause_id": disk, "effect_id": bought}).status_code == 201
    again = api.call("POST", LINKS, key, json={"cause_id": disk, "effect_id": bought, "strength": 0.7})
    assert again.status_code == 200 and again.json()["created"] is False and again.json()["strength"] == 0.7
    outgoing = api.call("GET", f"/links/{backup}", key).json()["outgoing"]
    assert [(ln["target_id"], ln["link_type"]) for ln in outgoing if ln["link_type"] == "caused_by"] == [
        (disk, "caused_by")
    ]

    every = api.call("GET", CHAINS, key).json()
    assert every["count"] == 2
    paths = sorted(c["memory_ids"] for c in every["chains"])
    assert paths == [[disk, backup, orders], [disk, bought]]
    long = next(c for c in every["chains"] if c["length"] == 2)
    assert long["root_memory_id"] == long["chain_id"] == disk and long["confidence"] == 0.5
    assert [(lk["cause_memory_id"], lk["effect_memory_id"], lk["order_index"]) for lk in long["links"]] == [
        (disk, backup, 0), (backup, orders, 1)
    ]  # fmt: skip
    assert [m["id"] for m in long["memories"]] == [disk, backup, orders]
    assert long["description"].startswith("The server ran out of disk space -> The nightly backup failed ->")
    # Through one memory: its causes and its effects, each way or both.
    both = api.call("GET", CHAINS, key, params={"memory_id": backup}).json()["chains"]
    assert [c["memory_ids"] for c in both] == [[disk, backup, orders]]
    causes = api.call("GET", CHAINS, key, params={"memory_id": orders, "direction": "causes"}).json()["chains"]
    assert [c["memory_ids"] for c in causes] == [[disk, backup, orders]]
    effects = api.call("GET", CHAINS, key, params={"id": disk, "direction": "effects"}).json()["chains"]
    assert sorted(c["memory_ids"] for c in effects) == paths
    # The depth limit cuts the walk and says so.
    short = api.call("GET", CHAINS, key, params={"memory_id": disk, "direction": "effects", "depth": 1}).json()
    assert sorted(c["memory_ids"] for c in short["chains"]) == [[disk, backup], [disk, bought]]
    assert {c["memory_ids"][-1]: c["truncated"] for c in short["chains"]} == {backup: True, bought: False}
    assert api.call("GET", CHAINS, key, params={"memory_id": bought, "direction": "effects"}).json()["chains"] == []
    # A trashed memory drops out of every chain.
    api.call("DELETE", f"/memory/{backup}", key)
    assert [c["memory_ids"] for c in api.call("GET", CHAINS, key).json()["chains"]] == [[disk, bought]]


def test_bad_links_are_400_naming_the_field(api: Api) -> None:
    key = api.admin_key
    disk, backup, orders, bought = _story(api, key)
    other = api.user("other")
    theirs = api.store(other, "Their own note about disks")

    def refused(body: object, field: str) -> str:
        r = api.call("POST", LINKS, key, json=body)
        assert r.status_code == 400 and r.json()["field"] == field, (body, r.status_code, r.text)
        return str(r.json()["error"])

    refused({"effect_memory_id": backup}, "cause_memory_id")
    refused({"cause_memory_id": disk}, "effect_memory_id")
    refused({"cause_memory_id": "x", "effect_memory_id": backup}, "cause_memory_id")
    refused({"cause_memory_id": disk, "effect_memory_id": 0}, "effect_memory_id")
    refused({"cause_memory_id": disk, "effect_memory_id": backup, "strength": 2}, "strength")
    refused({"cause_memory_id": disk, "effect_memory_id": disk}, "effect_memory_id")
    assert "not one of your memories" in refused(
        {"cause_memory_id": 999_999, "effect_memory_id": backup}, "cause_memory_id"
    )
    # Another user's memory is not found, exactly as a missing one.
    assert refused({"cause_memory_id": disk, "effect_memory_id": theirs}, "effect_memory_id") == (
        f"effect_memory_id: memory {theirs} is not one of your memories"
    )
    # A loop: backup caused by disk, orders by backup; disk caused by orders would close it.
    assert api.call("POST", LINKS, key, json={"cause_id": disk, "effect_id": backup}).status_code == 201
    assert api.call("POST", LINKS, key, json={"cause_id": backup, "effect_id": orders}).status_code == 201
    assert "loop" in refused({"cause_memory_id": orders, "effect_memory_id": disk}, "cause_memory_id")
    api.call("POST", f"/memory/{orders}/forget", key, json={})
    assert "forgotten" in refused({"cause_memory_id": orders, "effect_memory_id": disk}, "cause_memory_id")
    # An older version stands for its latest one.
    new = api.call("POST", f"/memory/{disk}/update", key, json={"content": "The server ran out of disk space again"})
    latest = new.json()["new_id"]
    assert latest != disk
    made = api.call("POST", LINKS, key, json={"cause_id": disk, "effect_id": bought}).json()
    assert (made["cause_memory_id"], made["effect_memory_id"]) == (latest, bought)
    # Chains: bad query values and another user's memory.
    for params, field in (({"depth": 0}, "depth"), ({"depth": 11}, "depth"), ({"direction": "up"}, "direction"),
                          ({"limit": 0}, "limit"), ({"memory_id": "x"}, "memory_id")):  # fmt: skip
        r = api.call("GET", CHAINS, key, params=params)
        assert r.status_code == 400 and r.json()["field"] == field, (params, r.text)
    assert api.call("GET", CHAINS, key, params={"memory_id": theirs}).status_code == 404


def test_another_users_key_sees_no_chain(api: Api) -> None:
    key = api.admin_key
    disk, backup, orders, _ = _story(api, key)
    api.call("POST", LINKS, key, json={"cause_id": disk, "effect_id": backup})
    other = api.user("other")
    assert api.call("GET", CHAINS, other).json() == {"chains": [], "count": 0, "memory_id": None,
                                                     "direction": "both", "depth": 5}  # fmt: skip
    assert api.call("GET", CHAINS, other, params={"memory_id": backup}).status_code == 404
    r = api.call("POST", LINKS, other, json={"cause_id": backup, "effect_id": orders})
    assert r.status_code == 400 and r.json()["field"] == "cause_memory_id"
    reader = api.key(key, ("read",))
    assert api.call("POST", LINKS, reader, json={"cause_id": backup, "effect_id": orders}).status_code == 403
    assert api.call("GET", CHAINS, reader).json()["count"] == 1


def test_stated_causes_are_chains_too(api: Api) -> None:
    """The links the rules write on store ("because ...") are walked like the ones made by hand."""
    key = api.admin_key
    lost = api.store(key, "I lost my job at the factory in March.")
    moved = api.store(key, "I moved back to my parents' house because I lost my job at the factory.")
    _drain(api)
    found = api.call("GET", CHAINS, key, params={"memory_id": moved, "direction": "causes"}).json()["chains"]
    assert [c["memory_ids"] for c in found] == [[lost, moved]]


def test_growth_reflect_writes_the_changes_down_once(api: Api) -> None:
    key = api.admin_key
    nothing = api.call("POST", "/growth/reflect", key, json={})
    assert nothing.status_code == 200 and nothing.json()["stored"] is False and nothing.json()["observations"] == []
    paris = api.store(key, "I live in Paris.", created_at="2024-01-10T09:00:00Z")
    lyon = api.store(key, "I moved to Lyon.", created_at="2024-06-01T09:00:00Z")
    berlin = api.store(key, "I moved to Berlin.", created_at="2025-02-01T09:00:00Z")
    _drain(api)
    r = api.call("POST", "/growth/reflect", key, json={})
    assert r.status_code == 201, r.text
    made = r.json()
    assert made["stored"] is True and made["reflection_type"] == "growth" and made["count"] == 2
    assert made["tier"] == "rules"  # no LLM configured
    assert made["content"] == (
        "Growth over time: You moved from Paris to Lyon (2024-06-01). You moved from Lyon to Berlin (2025-02-01)."
    )
    assert made["source_memory_ids"] == sorted([paris, lyon, berlin])
    listed = api.call("GET", "/reflections", key).json()["reflections"]
    assert [(x["id"], x["source_memory_ids"]) for x in listed] == [(made["id"], sorted([paris, lyon, berlin]))]
    same = api.call("POST", "/growth/reflect", key, json={})
    assert same.status_code == 200 and same.json()["stored"] is False and same.json()["id"] == made["id"]
    recent = api.call("POST", "/growth/reflect", key, json={"since": "2025-01-01T00:00:00Z"}).json()
    assert (
        recent["stored"] and recent["content"] == "Growth since 2025-01-01: You moved from Lyon to Berlin (2025-02-01)."
    )
    assert api.call("POST", "/growth/reflect", key, json={"since": "soon"}).json()["field"] == "since"
    assert api.call("POST", "/growth/reflect", key, json={"limit": 0}).json()["field"] == "limit"
    other = api.user("other")
    theirs = api.call("POST", "/growth/reflect", other, json={}).json()
    assert theirs["stored"] is False and theirs["observations"] == []
