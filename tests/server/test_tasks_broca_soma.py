"""chiasm (tasks), broca (action log), soma (agents) and POST /activity through the API."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from engram_core.timeutil import format_ts
from tests.helpers import Api


def test_tasks_history_feed_stats_and_events(api: Api) -> None:
    k = api.admin_key
    r = api.call("POST", "/tasks", k, json={"title": "Ship the parser", "assignee": "ana", "project": "p1",
                                            "priority": "high"})  # fmt: skip
    assert r.status_code == 201, r.text
    task = r.json()
    assert task["agent"] == task["assignee"] == "ana" and task["status"] == "active"
    assert api.call("POST", "/tasks", k, json={"title": "x", "status": "nope"}).json()["field"] == "status"
    up = api.call("PATCH", f"/tasks/{task['id']}", k, json={"status": "blocked", "summary": "waiting on CI"})
    assert up.status_code == 200 and up.json()["status"] == "blocked"
    api.call("PATCH", f"/tasks/{task['id']}", k, json={"assignee": "ben", "status": "completed"})
    hist = api.call("GET", f"/tasks/{task['id']}/history", k).json()
    assert hist["count"] == 3
    assert hist["history"][0]["changes"] == {"agent": "ben", "status": "completed"}
    assert hist["history"][1]["changes"] == {"status": "blocked", "summary": "waiting on CI"}
    listed = api.call("GET", "/tasks", k, params={"status": "completed", "assignee": "ben"}).json()
    assert [t["id"] for t in listed["tasks"]] == [task["id"]]
    stats = api.call("GET", "/tasks/stats", k).json()
    assert stats["total"] == 1 and stats["by_status"] == {"completed": 1}
    feed = api.call("GET", "/feed", k).json()
    assert feed["total"] == 1 and "user_id" not in feed["items"][0] and feed["updates"][0]["title"] == "Ship the parser"
    actions = [e["action"] for e in api.call("GET", "/axon/events", k, params={"channel": "tasks"}).json()["events"]]
    assert actions == ["task.updated", "task.updated", "task.created"]
    assert api.call("DELETE", f"/tasks/{task['id']}", k).json()["ok"] is True
    assert api.call("GET", f"/tasks/{task['id']}", k).status_code == 404


def test_broca_log_feed_ask_and_stats(api: Api) -> None:
    k = api.admin_key
    a = api.call("POST", "/broca/actions", k, json={"agent": "builder", "action": "deploy", "target": "api-server",
                                                    "outcome": "succeeded", "service": "ci"}).json()  # fmt: skip
    assert a["narrative"] == "builder deploy api-server (via ci): succeeded." and a["axon_event_id"]
    body = {"agent": "reviewer", "action": "review", "target": "PR 12", "summary": "reviewer approved PR 12",
            "metadata": {"lines": 40}}  # fmt: skip
    api.call("POST", "/broca/actions", k, json=body)
    api.call("POST", "/broca/actions", k, json={"agent": "builder", "action": "test", "outcome": "2 failures"})
    feed = api.call("GET", "/broca/feed", k).json()
    assert feed["count"] == 3 and feed["items"][1]["narrative"] == "reviewer approved PR 12"
    ans = api.call("POST", "/broca/ask", k, json={"question": "When did the builder deploy the api-server?"}).json()
    assert ans["matches"][0]["id"] == a["id"] and "api-server" in ans["answer"]
    none = api.call("POST", "/broca/ask", k, json={"question": "kubernetes migration"}).json()
    assert none["count"] == 0 and none["answer"].startswith("No logged action")
    assert api.call("GET", "/broca/actions", k, params={"agent": "builder"}).json()["count"] == 2
    assert api.call("GET", f"/broca/actions/{a['id']}", k).json()["target"] == "api-server"
    stats = api.call("GET", "/broca/stats", k).json()
    assert stats["total_actions"] == 3 and stats["agents"] == 2


def test_soma_agents_groups_search_and_offline_marking(api: Api) -> None:
    k = api.admin_key
    r = api.call("POST", "/soma/agents", k, json={"name": "coder", "agent_type": "llm",
                                                  "capabilities": ["python", "review"]})  # fmt: skip
    assert r.status_code == 201, r.text
    agent = r.json()
    assert agent["type"] == "llm" and agent["status"] == "pending" and agent["capabilities"] == ["python", "review"]
    again = api.call("POST", "/soma/agents", k, json={"name": "coder", "type": "llm", "capabilities": ["go"]}).json()
    assert again["id"] == agent["id"] and again["capabilities"] == ["go"]  # upsert by name
    api.call("POST", "/soma/agents", k, json={"name": "tester", "type": "llm", "capabilities": ["python"]})
    found = api.call("GET", "/soma/agents/search", k, params={"capability": "python"}).json()
    assert [a["name"] for a in found["agents"]] == ["tester"]
    beat = api.call("POST", f"/soma/agents/{agent['id']}/heartbeat", k).json()
    assert beat["ok"] is True and beat["status"] == "online" and beat["heartbeat_at"]
    assert api.call("PATCH", f"/soma/agents/{agent['id']}", k, json={"status": "bogus"}).status_code == 400
    g = api.call("POST", "/soma/groups", k, json={"name": "core"}).json()
    assert api.call("POST", f"/soma/groups/{g['id']}/members", k, json={"agent_id": agent["id"]}).json()["ok"]
    assert api.call("GET", "/soma/groups", k).json()["groups"][0]["member_count"] == 1
    assert api.call("GET", f"/soma/groups/{g['id']}/members", k).json()["agents"][0]["name"] == "coder"

    # The scheduler's upkeep marks a silent agent offline (with an event); a heartbeat brings it back.
    old = format_ts(datetime.now(UTC) - timedelta(hours=1))
    api.engram.db.write(lambda c: c.execute("UPDATE soma_agents SET heartbeat_at = ? WHERE id = ?", (old, agent["id"])))
    assert api.client.portal.call(api.engram.services.soma.mark_offline) == 1
    assert api.call("GET", f"/soma/agents/{agent['id']}", k).json()["status"] == "offline"
    ev = api.call("GET", "/axon/events", k, params={"channel": "agents"}).json()["events"]
    assert ev[0]["action"] == "agent.offline" and ev[0]["payload"]["name"] == "coder"
    assert api.call("POST", f"/soma/agents/{agent['id']}/heartbeat", k).json()["status"] == "online"
    stats = api.call("GET", "/soma/stats", k).json()
    assert stats["total_agents"] == 2 and stats["online_agents"] == 1 and stats["groups"] == 1
    assert "soma_offline" in {t["name"] for t in api.engram.scheduler.status()}


def test_activity_fans_out_in_one_transaction(api: Api) -> None:
    k = api.admin_key
    r = api.call("POST", "/activity", k, json={"agent": "ana", "action": "task.started", "project": "p1",
                                               "summary": "Porting the tokenizer", "details": {"pr": 3}})  # fmt: skip
    assert r.status_code == 201, r.text
    out = r.json()
    assert out["ok"] is True and out["task_id"] and out["event_id"] and out["action_id"] and out["memory_id"]
    done = api.call("POST", "/activity", k, json={"agent": "ana", "action": "task.completed", "project": "p1",
                                                  "summary": "Tokenizer ported"}).json()  # fmt: skip
    assert done["task_id"] == out["task_id"]
    assert api.call("GET", f"/tasks/{out['task_id']}", k).json()["status"] == "completed"
    event = api.call("GET", f"/axon/events/{out['event_id']}", k).json()
    assert event["channel"] == "tasks" and event["payload"]["details"] == {"pr": 3}
    assert api.call("GET", f"/broca/actions/{out['action_id']}", k).json()["axon_event_id"] == out["event_id"]
    assert api.call("GET", "/soma/agents", k).json()["agents"][0]["status"] == "online"
    assert api.call("GET", f"/memory/{out['memory_id']}", k).json()["category"] == "task"
    before = api.table_counts()
    bad = api.call("POST", "/activity", k, json={"agent": "ana", "action": "x", "summary": "y", "details": [1]})
    assert bad.status_code == 400 and bad.json()["field"] == "details"
    assert api.table_counts() == before


def test_two_users_never_see_each_others_services(api: Api) -> None:
    alice, bob = api.user("alice"), api.user("bob")
    t = api.call("POST", "/tasks", alice, json={"title": "alice secret task"}).json()
    a = api.call("POST", "/broca/actions", alice, json={"agent": "alice-bot", "action": "secret"}).json()
    g = api.call("POST", "/soma/agents", alice, json={"name": "alice-agent"}).json()
    for path in (f"/tasks/{t['id']}", f"/broca/actions/{a['id']}", f"/soma/agents/{g['id']}"):
        assert api.call("GET", path, bob).status_code == 404
    assert api.call("PATCH", f"/tasks/{t['id']}", bob, json={"status": "paused"}).status_code == 404
    for path in ("/tasks", "/feed", "/broca/actions", "/broca/feed", "/soma/agents", "/tasks/stats"):
        assert "alice" not in api.call("GET", path, bob).text, path
    assert api.call("POST", "/broca/ask", bob, json={"question": "alice secret"}).json()["count"] == 0
