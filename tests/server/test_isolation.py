"""Two users with their own keys: neither sees nor touches the other's memories, on any memory route."""

from __future__ import annotations

from tests.helpers import Api


def test_users_cannot_reach_each_others_memories(api: Api) -> None:
    alice = api.user("alice")
    bob = api.user("bob")
    secret = api.store(alice, "Alice's locker code is 4512 zebra", tags=["private"])
    api.store(bob, "Bob likes zebra crossings")

    # Bob's reads: not found, not listed, not searchable, no versions, no tags, no audit rows.
    assert api.call("GET", f"/memory/{secret}", bob).status_code == 404
    assert api.call("GET", f"/versions/{secret}", bob).status_code == 404
    listed = api.call("GET", "/list", bob).json()
    assert [m["content"] for m in listed["results"]] == ["Bob likes zebra crossings"]
    found = api.call("POST", "/search", bob, json={"query": "zebra locker code"}).json()["results"]
    assert [m["content"] for m in found] == ["Bob likes zebra crossings"]
    assert "private" not in {t["tag"] for t in api.call("GET", "/tags", bob).json()["tags"]}
    audit = api.call("GET", "/audit", bob).json()["entries"]
    assert all(e["target_id"] != secret or e["target_type"] != "memory" for e in audit)
    assert api.call("GET", "/audit", bob, params={"user_id": 2}).status_code == 403
    assert api.call("GET", "/me/stats", bob).json()["memories"] == 1

    # Bob's writes on Alice's memory: all 404, nothing changes.
    for method, path, body in [
        ("POST", f"/memory/{secret}/update", {"content": "pwned"}),
        ("PUT", f"/memory/{secret}/tags", {"tags": ["x"]}),
        ("POST", f"/memory/{secret}/forget", {}),
        ("POST", f"/memory/{secret}/archive", {}),
        ("POST", f"/memory/{secret}/unarchive", {}),
        ("POST", f"/memory/{secret}/restore", {}),
        ("POST", f"/memory/{secret}/purge", {}),
        ("DELETE", f"/memory/{secret}", {}),
    ]:
        r = api.call(method, path, bob, json=body)
        assert r.status_code == 404, (method, path, r.text)

    mine = api.call("GET", f"/memory/{secret}", alice).json()
    assert mine["content"] == "Alice's locker code is 4512 zebra"
    assert mine["tags"] == ["private"] and not mine["is_forgotten"] and not mine["is_archived"]
    assert api.call("GET", "/versions/" + str(secret), alice).json()["chain"][0]["is_latest"] is True


def test_keys_and_spaces_are_per_user(api: Api) -> None:
    alice = api.user("alice")
    bob = api.user("bob")
    alice_keys = api.call("GET", "/keys", alice).json()["keys"]
    assert api.call("DELETE", f"/keys/{alice_keys[0]['id']}", bob).status_code == 404
    assert api.call("POST", "/keys/rotate", bob, json={"key_id": alice_keys[0]["id"]}).status_code == 404
    space = api.call("POST", "/spaces", alice, json={"name": "work"}).json()
    assert api.call("GET", "/spaces", bob).json()["spaces"] == []
    assert api.call("DELETE", f"/spaces/{space['id']}", bob).status_code == 404
    r = api.call("POST", "/store", bob, json={"content": "sneaky", "space_id": space["id"]})
    assert r.status_code == 404
    assert api.call("GET", "/users", alice).status_code == 403
    assert api.call("GET", "/stats", alice).status_code == 403
