"""Entities (co-occurrence, relationships), projects, episodes, conversations; per-user isolation."""

from __future__ import annotations

from tests.helpers import Api


def _post(api: Api, key: str, path: str, body: dict[str, object], status: int = 201) -> dict[str, object]:
    r = api.call("POST", path, key, json=body)
    assert r.status_code == status, r.text
    return dict(r.json())


def test_entity_cooccurrence_counts_shared_memories(api: Api) -> None:
    key = api.admin_key
    m1 = api.store(key, "Ada and Grace met at the conference")
    m2 = api.store(key, "Ada, Grace and Linus wrote a compiler together")
    ada = _post(api, key, "/entities", {"name": "Ada", "type": "person", "memory_ids": [m1, m2]})
    grace = _post(api, key, "/entities", {"name": "Grace", "type": "person", "memory_ids": [m1, m2]})
    linus = _post(api, key, "/entities", {"name": "Linus", "type": "person", "memory_ids": [m2]})
    again = _post(api, key, "/entities", {"name": "ada", "type": "person", "memory_ids": [m1]}, status=200)
    assert again["id"] == ada["id"] and again["created"] is False and again["attached"] == 0
    co = api.call("GET", f"/entities/{ada['id']}/cooccurrences", key).json()["cooccurrences"]
    assert [(c["entity"]["name"], c["count"]) for c in co] == [("Grace", 2), ("Linus", 1)]
    assert [e["name"] for e in api.call("GET", f"/memory/{m2}/entities", key).json()["entities"]] == [
        "Ada",
        "Grace",
        "Linus",
    ]
    mems = api.call("GET", f"/entities/{linus['id']}/memories", key).json()["memories"]
    assert [m["id"] for m in mems] == [m2]
    rel = _post(
        api,
        key,
        "/entity-relationships",
        {"source_entity_id": ada["id"], "target_entity_id": grace["id"], "relationship": "collaborates_with"},
    )
    got = api.call("GET", f"/entities/{grace['id']}", key).json()
    assert got["memory_count"] == 2 and got["relationships"][0]["id"] == rel["id"]
    put = api.call("PUT", f"/entities/{linus['id']}", key, json={"description": "kernel", "memory_ids": [m1]}).json()
    assert put["description"] == "kernel" and put["attached"] == 1
    listed = api.call("GET", "/entities", key, params={"q": "a"}).json()["entities"]
    assert {e["name"] for e in listed} == {"Ada", "Grace"}
    assert api.call("DELETE", f"/entities/{linus['id']}", key).json()["deleted"] is True
    assert api.call("GET", f"/entities/{ada['id']}/cooccurrences", key).json()["count"] == 1


def test_projects_episodes_and_conversations(api: Api) -> None:
    key = api.admin_key
    m1, m2 = api.store(key, "kickoff notes"), api.store(key, "design review notes")
    p = _post(api, key, "/projects", {"name": "apollo", "description": "moon"})
    assert api.call("PUT", f"/projects/{p['id']}/memories/{m1}", key).json()["added"] is True
    assert api.call("GET", f"/projects/{p['id']}", key).json()["memories"][0]["id"] == m1
    assert api.call("DELETE", f"/projects/{p['id']}/memories/{m1}", key).json()["removed"] is True
    assert api.call("PUT", f"/projects/{p['id']}", key, json={"status": "done"}).json()["status"] == "done"
    assert _post(api, key, "/projects", {"name": "apollo"}, status=409)
    e = _post(api, key, "/episodes", {"title": "sprint 1", "session_id": "s1"})
    assert api.call("POST", f"/episodes/{e['id']}/memories", key, json={"memory_ids": [m2, m1]}).json()["added"] == 2
    assert [m["id"] for m in api.call("GET", f"/episodes/{e['id']}", key).json()["memories"]] == [m2, m1]
    assert api.call("PATCH", f"/episodes/{e['id']}", key, json={"title": "Sprint 1"}).json()["title"] == "Sprint 1"
    fin = api.call("POST", f"/episodes/{e['id']}/finalize", key, json={"summary": "shipped"}).json()
    assert fin["status"] == "finalized" and fin["summary"] == "shipped" and fin["ended_at"]
    assert api.call("POST", f"/episodes/{e['id']}/memories", key, json={"memory_ids": [m1]}).status_code == 409
    assert api.call("GET", "/episodes", key, params={"status": "finalized"}).json()["count"] == 1
    c = _post(api, key, "/conversations", {"title": "support chat", "metadata": {"channel": "web"}})
    _post(api, key, f"/conversations/{c['id']}/messages", {"role": "user", "content": "My invoice is wrong"})
    _post(
        api,
        key,
        f"/conversations/{c['id']}/messages",
        {"role": "assistant", "content": "Let me check billing"},
    )
    msgs = api.call("GET", f"/conversations/{c['id']}/messages", key).json()["messages"]
    assert [m["role"] for m in msgs] == ["user", "assistant"]
    hits = api.call("POST", "/messages/search", key, json={"query": "invoice"}).json()["results"]
    assert [h["content"] for h in hits] == ["My invoice is wrong"]
    assert api.call("GET", f"/conversations/{c['id']}", key).json()["message_count"] == 2
    assert api.call("PATCH", f"/conversations/{c['id']}", key, json={"title": "t"}).json()["title"] == "t"
    assert api.call("DELETE", f"/conversations/{c['id']}", key).json()["deleted"] is True
    assert api.call("POST", "/messages/search", key, json={"query": "invoice"}).json()["results"] == []


def test_another_users_ids_are_404_and_never_listed(api: Api) -> None:
    alice, bob = api.user("alice"), api.user("bob")
    secret = api.store(alice, "Alice's secret plan for the zebra launch")
    bob_mem = api.store(bob, "Bob's zebra note")
    ent = _post(api, alice, "/entities", {"name": "Zebra", "memory_ids": [secret]})
    proj = _post(api, alice, "/projects", {"name": "launch"})
    ep = _post(api, alice, "/episodes", {"title": "launch week"})
    conv = _post(api, alice, "/conversations", {"title": "plans"})
    _post(api, alice, f"/conversations/{conv['id']}/messages", {"content": "zebra launch details"})
    other = _post(api, alice, "/entities", {"name": "Lion"})
    for method, path, body in [
        ("GET", f"/entities/{ent['id']}", None),
        ("PUT", f"/entities/{ent['id']}", {"description": "x"}),
        ("DELETE", f"/entities/{ent['id']}", None),
        ("GET", f"/entities/{ent['id']}/memories", None),
        ("GET", f"/entities/{ent['id']}/cooccurrences", None),
        ("GET", f"/memory/{secret}/entities", None),
        (
            "POST",
            "/entity-relationships",
            {"source_entity_id": ent["id"], "target_entity_id": other["id"], "relationship": "eats"},
        ),
        ("GET", f"/projects/{proj['id']}", None),
        ("PUT", f"/projects/{proj['id']}", {"name": "mine"}),
        ("DELETE", f"/projects/{proj['id']}", None),
        ("PUT", f"/projects/{proj['id']}/memories/{bob_mem}", None),
        ("GET", f"/episodes/{ep['id']}", None),
        ("PATCH", f"/episodes/{ep['id']}", {"title": "x"}),
        ("POST", f"/episodes/{ep['id']}/memories", {"memory_ids": [bob_mem]}),
        ("POST", f"/episodes/{ep['id']}/finalize", {}),
        ("GET", f"/conversations/{conv['id']}", None),
        ("PATCH", f"/conversations/{conv['id']}", {"title": "x"}),
        ("DELETE", f"/conversations/{conv['id']}", None),
        ("GET", f"/conversations/{conv['id']}/messages", None),
        ("POST", f"/conversations/{conv['id']}/messages", {"content": "hi"}),
        ("GET", f"/links/{secret}", None),
        ("GET", f"/graph/neighborhood/{secret}", None),
        ("GET", "/fsrs/state?id=" + str(secret), None),
        ("POST", "/fsrs/review", {"id": secret, "grade": 3}),
        ("POST", "/entities", {"name": "Mine", "memory_ids": [secret]}),
    ]:
        r = api.call(method, path, bob, json=body)
        assert r.status_code == 404, (method, path, r.text)
    own_ep = _post(api, bob, "/episodes", {"title": "bob week"})
    r = api.call("POST", f"/episodes/{own_ep['id']}/memories", bob, json={"memory_ids": [secret]})
    assert r.status_code == 404
    for path, key in [
        ("/entities", "entities"),
        ("/projects", "projects"),
        ("/episodes", "episodes"),
        ("/conversations", "conversations"),
    ]:
        listed = api.call("GET", path, bob).json()[key]
        assert all(item.get("name") not in {"Zebra", "Lion", "launch"} for item in listed), path
        assert all(item.get("title") not in {"launch week", "plans"} for item in listed), path
    assert api.call("POST", "/messages/search", bob, json={"query": "zebra launch"}).json()["results"] == []
    assert api.call("GET", "/duplicates", bob, params={"distance": 16}).json()["pairs"] == []
    assert {s["id"] for s in api.call("GET", "/decay/scores", bob).json()["results"]} == {bob_mem}
    assert api.call("GET", "/communities", bob).json()["count"] == 0
    assert api.call("GET", f"/entities/{ent['id']}", alice).json()["memory_count"] == 1
