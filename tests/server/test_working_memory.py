"""Working memory over the app: sessions (idempotent messages, core memory, budgeted context, the short-term
window rolling into extracted memories), the scratchpad (TTL purge by the scheduler, promote) and the review
inbox (pending memories are never recalled until approved)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from engram_core.settings import Settings
from engram_server.app import create_app
from tests.conftest import BOOTSTRAP_SECRET
from tests.helpers import Api


@pytest.fixture
def api(tmp_path: Path) -> Iterator[Api]:
    cfg = Settings.for_data_dir(tmp_path / "data", bootstrap_secret=BOOTSTRAP_SECRET, ttl_sweep_seconds=3600.0,
                                session_window=4, scratch_sweep_seconds=0.2)  # fmt: skip
    with TestClient(create_app(cfg), raise_server_exceptions=False) as client:
        r = client.post("/bootstrap", json={"secret": BOOTSTRAP_SECRET})
        yield Api(client, r.json()["key"])


def wait_for(probe: Callable[[], Any], timeout: float = 10.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = probe()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError("condition not met in time")


def _session(api: Api, key: str | None = None) -> str:
    r = api.call("POST", "/sessions", key or api.admin_key, json={"agent": "helper"})
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


def _say(api: Api, sid: str, mid: str, role: str, content: str) -> Any:
    return api.call("POST", f"/sessions/{sid}/messages", api.admin_key,
                    json={"message_id": mid, "role": role, "content": content})  # fmt: skip


def _search(api: Api, query: str) -> list[str]:
    r = api.call("POST", "/search", api.admin_key, json={"query": query})
    return [m["content"] for m in r.json()["results"]]


def test_a_retried_message_is_not_duplicated(api: Api) -> None:
    sid = _session(api)
    first = _say(api, sid, "m-1", "user", "Hello, I am planning a trip")
    again = _say(api, sid, "m-1", "user", "Hello, I am planning a trip")
    assert first.status_code == 201 and again.status_code == 200
    assert again.json()["duplicate"] is True and again.json()["id"] == first.json()["id"]
    assert len(api.call("GET", f"/sessions/{sid}", api.admin_key).json()["messages"]) == 1


def test_context_is_core_then_memories_then_whole_recent_turns_within_budget(api: Api) -> None:
    api.store(api.admin_key, "Always reply in metric units", is_static=True)
    api.store(api.admin_key, "The user's bicycle is a green Brompton")
    sid = _session(api)
    r = api.call("PUT", f"/sessions/{sid}/core-memory", api.admin_key, json={"facts": ["User's name is Ana"]})
    assert r.json()["core_memory"] == ["User's name is Ana"]
    for i in range(3):
        _say(api, sid, f"u{i}", "user", f"Question number {i} about routes and the bicycle Brompton")
        _say(api, sid, f"a{i}", "assistant", f"Answer number {i}, " + "with a long explanation " * 8)
    full = api.call("GET", f"/sessions/{sid}/context", api.admin_key, params={"max_tokens": 4000}).json()
    text = full["context"]
    assert text.index("User's name is Ana") < text.index("metric units") < text.index("Answer number 2")
    assert "green Brompton" in text and full["tokens"] <= 4000
    roles = [m["role"] for m in full["messages"]]
    assert roles and roles == ["user", "assistant"] * (len(roles) // 2) and full["messages_left_out"] == 0
    tight = api.call("GET", f"/sessions/{sid}/context", api.admin_key, params={"max_tokens": 150}).json()
    assert tight["tokens"] <= 150 and "User's name is Ana" in tight["context"]
    kept = tight["messages"]
    assert len(kept) % 2 == 0 and all(m["role"] == ("user", "assistant")[i % 2] for i, m in enumerate(kept))
    assert tight["messages_left_out"] > 0
    logs = api.call("GET", "/logs", api.admin_key, params={"origin": "session"}).json()["logs"]
    assert logs and logs[0]["conversation_id"] == sid


def test_messages_past_the_window_become_extracted_memories(api: Api) -> None:
    sid = _session(api)
    _say(api, sid, "1", "user", "I live in Lisbon. Can you help me plan?")
    _say(api, sid, "2", "assistant", "Sure, Lisbon is lovely in spring.")
    for i in range(3, 7):
        _say(api, sid, str(i), "user" if i % 2 else "assistant", f"small talk {i}")
    found = wait_for(lambda: [c for c in _search(api, "Lisbon") if "Lisbon" in c])
    assert found == ["I live in Lisbon."]  # the fact, not the message copied verbatim
    messages = api.call("GET", f"/sessions/{sid}", api.admin_key).json()["messages"]
    wait_for(lambda: sum(m["archived"] for m in api.call("GET", f"/sessions/{sid}", api.admin_key).json()["messages"]))
    assert len(messages) == 6
    ctx = api.call("GET", f"/sessions/{sid}/context", api.admin_key).json()
    assert all(m["message_id"] not in {"1", "2"} for m in ctx["messages"])


def test_the_window_rolls_whole_turns(api: Api) -> None:
    """Window 4: the fifth message would push out the first question alone; it stays until its answer goes too."""
    sid = _session(api)
    for i, role in enumerate(["user", "assistant", "user", "assistant", "user"]):
        _say(api, sid, f"m{i}", role, f"{role} line {i} about the Lisbon trip")
    sessions = api.client.app.state.engram.working.sessions  # type: ignore[attr-defined]

    def archived() -> list[str]:
        api.client.portal.call(sessions.settle)  # type: ignore[union-attr]  # the roll tasks are done
        messages = api.call("GET", f"/sessions/{sid}", api.admin_key).json()["messages"]
        return [m["message_id"] for m in messages if m["archived"]]

    assert archived() == []  # the window would cut after m0: the question stays with its answer
    _say(api, sid, "m5", "assistant", "assistant line 5")
    assert archived() == ["m0", "m1"]
    roles = [m["role"] for m in api.call("GET", f"/sessions/{sid}/context", api.admin_key).json()["messages"]]
    assert roles == ["user", "assistant", "user", "assistant"]


def test_sessions_are_the_owners_only_and_deletable(api: Api) -> None:
    sid = _session(api)
    _say(api, sid, "1", "user", "secret plans")
    bob = api.user("bob")
    for method, path, body in (("GET", f"/sessions/{sid}", None), ("GET", f"/sessions/{sid}/context", None),
                               ("POST", f"/sessions/{sid}/messages", {"message_id": "x", "role": "user",
                                                                      "content": "hi"}),
                               ("PUT", f"/sessions/{sid}/core-memory", {"facts": ["x"]}),
                               ("DELETE", f"/sessions/{sid}", None)):  # fmt: skip
        assert api.call(method, path, bob, json=body).status_code == 404, path
    assert api.call("GET", "/sessions", bob).json()["sessions"] == []
    assert api.call("DELETE", f"/sessions/{sid}", api.admin_key).json() == {"deleted": True, "id": sid}
    assert api.call("GET", f"/sessions/{sid}", api.admin_key).status_code == 404


def test_scratchpad_promote_delete_and_ttl_purge(api: Api) -> None:
    entries = [{"key": "lead", "value": "The flaky test is caused by a shared temp dir"}, {"key": "todo", "value": "x"}]
    r = api.call("PUT", "/scratch", api.admin_key, json={"session": "s1", "agent": "a", "entries": entries})
    assert r.json() == {"stored": 2, "session": "s1", "ttl_minutes": 30}
    got = api.call("GET", "/scratch", api.admin_key, params={"session": "s1"}).json()
    assert got["count"] == 2 and {e["key"] for e in got["entries"]} == {"lead", "todo"}
    r = api.call("POST", "/scratch/s1/promote", api.admin_key, json={"keys": ["lead"]})
    assert r.status_code == 201 and r.json()["count"] == 1
    assert any("shared temp dir" in c for c in _search(api, "flaky shared temp dir"))
    assert api.call("DELETE", "/scratch/s1/todo", api.admin_key).json() == {"deleted": True, "session": "s1",
                                                                             "key": "todo"}  # fmt: skip
    assert api.call("POST", "/scratch/nope/promote", api.admin_key, json={}).status_code == 404
    bob = api.user("bob")
    assert api.call("GET", "/scratch", bob).json()["count"] == 0
    assert api.call("DELETE", "/scratch/s1", bob).status_code == 404
    # Expiry: the row's time runs out, the scheduler's sweep deletes it.
    api.call(
        "PUT", "/scratch", api.admin_key, json={"session": "s2", "ttl": 1, "entries": [{"key": "k", "value": "v"}]}
    )
    db = api.engram.db
    db.write(lambda c: c.execute("UPDATE scratch SET expires_at = '2000-01-01T00:00:00.000000Z' WHERE session = 's2'"))
    assert api.call("GET", "/scratch", api.admin_key, params={"session": "s2"}).json()["count"] == 0
    wait_for(lambda: db.read(lambda c: c.execute("SELECT count(*) FROM scratch WHERE session = 's2'").fetchone()[0])
             == 0)  # fmt: skip


def test_pending_memories_wait_in_the_inbox_and_are_never_recalled(api: Api) -> None:
    pending = api.store(api.admin_key, "The quokka vault code is 4711", status="pending")
    other = api.store(api.admin_key, "The quokka garden gate is blue", status="pending")
    third = api.store(api.admin_key, "The quokka shed is locked", status="pending")
    assert _search(api, "quokka") == []  # warms the cache too: approval must invalidate it
    r = api.call("POST", "/recall", api.admin_key, json={"query": "quokka"})
    assert r.json()["count"] == 0
    r = api.call("POST", "/context", api.admin_key, json={"query": "quokka vault"})
    assert "quokka" not in r.json()["context"]
    inbox = api.call("GET", "/inbox", api.admin_key).json()
    assert inbox["total"] == 3 and [p["id"] for p in inbox["pending"]] == [pending, other, third]
    bob = api.user("bob")
    assert api.call("GET", "/inbox", bob).json()["total"] == 0
    assert api.call("POST", f"/inbox/{pending}/approve", bob, json={}).status_code == 404
    assert api.call("POST", f"/inbox/{pending}/approve", api.admin_key, json={}).json() == {"approved": True,
                                                                                            "id": pending}  # fmt: skip
    assert _search(api, "quokka") == ["The quokka vault code is 4711"]
    assert api.call("POST", f"/inbox/{pending}/approve", api.admin_key, json={}).status_code == 404  # not pending
    r = api.call("POST", f"/inbox/{other}/edit", api.admin_key, json={"content": "The quokka garden gate is red"})
    assert r.json()["approved"] is True and r.json()["edited"] is True
    edited = api.call("GET", f"/memory/{r.json()['id']}", api.admin_key).json()  # the new version's id
    assert r.json()["previous_id"] == other and edited["content"] == "The quokka garden gate is red"
    assert "The quokka garden gate is red" in _search(api, "quokka garden gate")
    assert "The quokka garden gate is blue" not in _search(api, "quokka garden gate")
    assert api.call("POST", f"/inbox/{third}/reject", api.admin_key, json={"reason": "wrong"}).json()["rejected"]
    assert "The quokka shed is locked" not in _search(api, "quokka shed")
    assert api.call("GET", "/inbox", api.admin_key).json()["total"] == 0


def test_bulk_review_changes_only_my_pending_memories(api: Api) -> None:
    mine = [api.store(api.admin_key, f"pending fact number {i} about otters", status="pending") for i in range(3)]
    bob = api.user("bob")
    bobs = api.store(bob, "bob's pending otter fact", status="pending")
    r = api.call("POST", "/inbox/bulk", api.admin_key, json={"ids": [*mine[:2], bobs], "action": "approve"})
    assert r.json() == {"action": "approve", "count": 2, "ids": mine[:2]}
    assert api.call("GET", "/inbox", bob).json()["total"] == 1
    r = api.call("POST", "/inbox/bulk", api.admin_key, json={"ids": [mine[2]], "action": "reject"})
    assert r.json()["count"] == 1 and api.call("GET", "/inbox", api.admin_key).json()["total"] == 0
    r = api.call("POST", "/inbox/bulk", api.admin_key, json={"ids": list(range(1, 300)), "action": "approve"})
    assert r.status_code == 400 and r.json()["field"] == "ids"
