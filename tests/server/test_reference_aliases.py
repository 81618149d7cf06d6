"""Reference route aliases: /chiasm/* (the task routes) and /intelligence/digests* serve the same objects."""

from __future__ import annotations

from tests.helpers import Api


def test_chiasm_routes_are_the_task_routes(api: Api) -> None:
    k = api.admin_key
    made = api.call("POST", "/chiasm/tasks", k, json={"title": "Write docs", "agent": "ana", "project": "p"})
    assert made.status_code == 201, made.text
    tid = made.json()["id"]
    assert api.call("GET", f"/tasks/{tid}", k).json()["title"] == "Write docs"  # one table behind both
    up = api.call("PATCH", f"/chiasm/tasks/{tid}", k, json={"status": "blocked", "summary": "waiting"})
    assert up.status_code == 200 and up.json()["status"] == "blocked"
    assert (
        api.call("GET", f"/tasks/{tid}/history", k).json() == api.call("GET", f"/chiasm/tasks/{tid}/history", k).json()
    )
    listed = api.call("GET", "/chiasm/tasks", k, params={"status": "blocked"}).json()
    assert [t["id"] for t in listed["tasks"]] == [tid] and listed["count"] == 1
    assert api.call("GET", "/chiasm/tasks/stats", k).json()["by_status"] == {"blocked": 1}
    assert api.call("GET", "/chiasm/feed", k).json()["items"][0]["id"] == tid
    assert api.call("POST", "/chiasm/tasks", k, json={"title": "x", "status": "nope"}).json()["field"] == "status"
    bob = api.user("bob")
    assert api.call("GET", f"/chiasm/tasks/{tid}", bob).status_code == 404
    assert api.call("GET", "/chiasm/tasks", bob).json()["count"] == 0
    assert api.call("DELETE", f"/chiasm/tasks/{tid}", k).json()["ok"] is True
    assert api.call("GET", f"/tasks/{tid}", k).status_code == 404


def test_intelligence_digests_are_the_digest_routes(api: Api) -> None:
    k = api.admin_key
    api.store(k, "We moved the standup to 9:30")
    made = api.call("POST", "/intelligence/digests/generate", k, json={"period": "daily"})
    assert made.status_code == 201, made.text
    assert made.json()["period"] == "daily" and made.json()["memory_count"] == 1
    listed = api.call("GET", "/intelligence/digests", k).json()
    assert listed == api.call("GET", "/digests", k).json() and listed["digests"][0]["id"] == made.json()["id"]
    assert api.call("POST", "/intelligence/digests/generate", k, json={"period": "hourly"}).json()["field"] == "period"
    assert api.call("GET", "/intelligence/digests", api.user("bob")).json()["digests"] == []


def test_agent_quality_and_logs_at_the_typescript_paths(api: Api) -> None:
    k = api.admin_key
    aid = api.call("POST", "/soma/agents", k, json={"name": "ana", "type": "coder"}).json()["id"]
    r = api.call("PATCH", f"/soma/agents/{aid}/quality", k, json={"qualityScore": 0.75, "driftFlags": ["tone"]})
    assert r.status_code == 200, r.text
    assert r.json() == {"agentId": aid, "qualityScore": 0.75, "driftFlags": ["tone"],
                        "agent_id": aid, "quality_score": 0.75, "drift_flags": ["tone"]}  # fmt: skip
    kept = api.call("PATCH", f"/soma/agents/{aid}/quality", k, json={"quality_score": 0.5}).json()
    assert kept["drift_flags"] == ["tone"]  # omitted flags stay as they are
    agent = api.call("GET", f"/soma/agents/{aid}", k).json()
    assert agent["quality_score"] == 0.5 and agent["drift_flags"] == ["tone"]
    for bad, field in (({"quality_score": 1.5}, "quality_score"), ({}, "quality_score"),
                       ({"quality_score": 0.1, "drift_flags": "x"}, "drift_flags")):  # fmt: skip
        r = api.call("PATCH", f"/soma/agents/{aid}/quality", k, json=bad)
        assert r.status_code == 400 and r.json()["field"] == field, r.text
    # a drift event for the agent's name puts its type first among the agent's drift flags
    for kind in ("safety", "framework", "safety"):
        body = {"agent": "ana", "signal": "strayed", "drift_type": kind}
        assert api.call("POST", "/thymus/drift-events", k, json=body).status_code == 201
    assert api.call("GET", f"/soma/agents/{aid}", k).json()["drift_flags"] == ["safety", "framework", "tone"]
    # logs: the same entries at both paths
    made = api.call("POST", f"/agents/{aid}/logs", k, json={"message": "started", "level": "info"})
    assert made.status_code == 201, made.text
    assert api.call("GET", f"/agents/{aid}/logs", k).json() == api.call("GET", f"/soma/agents/{aid}/logs", k).json()
    assert api.call("GET", f"/agents/{aid}/logs", k).json()["logs"][0]["message"] == "started"
    bob = api.user("bob")
    assert api.call("PATCH", f"/soma/agents/{aid}/quality", bob, json={"quality_score": 0.1}).status_code == 404
    assert api.call("GET", f"/agents/{aid}/logs", bob).status_code == 404
    assert api.call("POST", f"/agents/{aid}/logs", bob, json={"message": "x"}).status_code == 404
    # another user's drift report about an agent of the same name flags only that user's agents
    bob_event = {"agent": "ana", "signal": "strayed", "drift_type": "meaning"}
    assert api.call("POST", "/thymus/drift-events", bob, json=bob_event).status_code == 201
    assert api.call("GET", f"/soma/agents/{aid}", k).json()["drift_flags"] == ["safety", "framework", "tone"]
