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
