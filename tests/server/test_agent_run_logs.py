"""soma agent logs and stale agents, loom run logs: through the API, newest/oldest order, filters, the
error shape of bad input, and another user's key seeing nothing (404 on the ids, empty lists)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from engram_core.timeutil import format_ts
from tests.helpers import Api

FLOW = {
    "name": "release",
    "steps": [
        {"name": "build", "type": "action"},
        {"name": "notes", "type": "transform", "depends_on": ["build"], "config": {"template": "v{{v}}"}},
        {"name": "test", "type": "action", "depends_on": ["build"], "max_retries": 1},
    ],
}


def _agent(api: Api, key: str, name: str) -> dict[str, Any]:
    r = api.call("POST", "/soma/agents", key, json={"name": name, "type": "llm"})
    assert r.status_code == 201, r.text
    return dict(r.json())


def test_agent_logs_are_kept_per_agent_newest_first(api: Api) -> None:
    k = api.admin_key
    a, b = _agent(api, k, "coder"), _agent(api, k, "tester")
    r = api.call("POST", f"/soma/agents/{a['id']}/log", k, json={"message": "started", "data": {"pid": 7}})
    assert r.status_code == 201, r.text
    first = r.json()
    assert first["level"] == "info" and first["agent_id"] == a["id"] and first["data"] == {"pid": 7}
    api.call("POST", f"/soma/agents/{a['id']}/log", k, json={"level": "error", "message": "crashed"})
    api.call("POST", f"/soma/agents/{b['id']}/log", k, json={"message": "other agent"})
    logs = api.call("GET", f"/soma/agents/{a['id']}/logs", k).json()
    assert [x["message"] for x in logs["logs"]] == ["crashed", "started"] and logs["count"] == 2
    assert api.call("GET", f"/soma/agents/{a['id']}/log", k).json() == logs  # the reference's other path
    errors = api.call("GET", f"/soma/agents/{a['id']}/logs", k, params={"level": "error", "limit": 5}).json()
    assert [x["message"] for x in errors["logs"]] == ["crashed"]
    api.call("DELETE", f"/soma/agents/{a['id']}", k)
    assert api.table_counts()["soma_agent_logs"] == 1  # the agent's entries went with it


def test_stale_agents_are_those_silent_past_the_time(api: Api) -> None:
    k = api.admin_key
    fresh, old, never = _agent(api, k, "fresh"), _agent(api, k, "old"), _agent(api, k, "never")
    api.call("POST", f"/soma/agents/{fresh['id']}/heartbeat", k)
    api.call("POST", f"/soma/agents/{old['id']}/heartbeat", k)
    ten_min_ago = format_ts(datetime.now(UTC) - timedelta(minutes=10))
    sql = "UPDATE soma_agents SET heartbeat_at = ? WHERE id = ?"
    api.engram.db.write(lambda c: c.execute(sql, (ten_min_ago, old["id"])))
    stale = api.call("GET", "/soma/agents/stale", k, params={"minutes": 5}).json()
    assert [x["name"] for x in stale["agents"]] == ["never", "old"] and stale["minutes"] == 5
    assert [x["name"] for x in api.call("GET", "/soma/agents/stale", k, params={"minutes": 20}).json()["agents"]] == [
        "never"
    ]
    default = api.call("GET", "/soma/agents/stale", k).json()  # the configured offline time (5 minutes)
    assert default["minutes"] == api.engram.settings.soma_offline_seconds / 60
    # The scheduler's upkeep marks the silent online agent offline; the never-seen one was never online.
    assert api.client.portal.call(api.engram.services.soma.mark_offline) == 1
    assert api.call("GET", f"/soma/agents/{old['id']}", k).json()["status"] == "offline"
    assert api.call("GET", f"/soma/agents/{never['id']}", k).json()["status"] == "pending"


def test_a_run_logs_every_step_change(api: Api) -> None:
    k = api.admin_key
    api.call("POST", "/loom/workflows", k, json=FLOW)
    run = api.call("POST", "/loom/runs", k, json={"workflow_name": "release", "input": {"v": 2}}).json()
    steps = {s["name"]: s["id"] for s in run["steps"]}
    api.call("POST", f"/loom/steps/{steps['build']}/complete", k, json={"output": {"ok": True}})
    api.call("POST", f"/loom/steps/{steps['test']}/fail", k, json={"error": "flaky"})
    api.call("POST", f"/loom/steps/{steps['test']}/fail", k, json={"error": "broken"})
    logs = api.call("GET", f"/loom/runs/{run['id']}/logs", k).json()
    got = [(x["level"], x["step_id"], x["message"]) for x in logs["logs"]]
    assert got == [
        ("info", None, "run started (release)"),
        ("info", steps["build"], "step build started (action)"),
        ("info", steps["build"], "step build completed"),
        ("info", steps["notes"], "step notes completed (transform)"),
        ("info", steps["test"], "step test started (action)"),
        ("warn", steps["test"], "step test failed (attempt 1 of 2), retrying: flaky"),
        ("error", steps["test"], "step test failed (attempt 2 of 2): broken"),
        ("error", None, "run failed: step test failed: broken"),
    ], got
    assert logs["logs"][0]["data"] == {"workflow_id": run["workflow_id"], "workflow": "release", "steps": 3}
    only = api.call("GET", f"/loom/runs/{run['id']}/logs", k, params={"step_id": steps["test"], "level": "warn"})
    assert [x["message"] for x in only.json()["logs"]] == ["step test failed (attempt 1 of 2), retrying: flaky"]
    assert api.call("GET", f"/loom/runs/{run['id']}/logs", k, params={"limit": 2}).json()["count"] == 2


def test_timeouts_and_cancel_are_logged(api: Api) -> None:
    k = api.admin_key
    step = {"name": "a", "type": "wait", "max_retries": 0, "timeout_ms": 10}
    api.call("POST", "/loom/workflows", k, json={"name": "w", "steps": [step]})
    run = api.call("POST", "/loom/runs", k, json={"workflow_name": "w"}).json()
    past = format_ts(datetime.now(UTC) - timedelta(seconds=5))
    api.engram.db.write(lambda c: c.execute("UPDATE loom_steps SET started_at = ? WHERE run_id = ?", (past, run["id"])))
    assert api.client.portal.call(api.engram.services.loom.check_timeouts) == 1
    msgs = [x["message"] for x in api.call("GET", f"/loom/runs/{run['id']}/logs", k).json()["logs"]]
    assert msgs[-2:] == ["step a failed (attempt 1 of 1): timed out after 10 ms",
                         "run failed: step a failed: timed out after 10 ms"]  # fmt: skip
    second = api.call("POST", "/loom/runs", k, json={"workflow_name": "w"}).json()
    api.call("POST", f"/loom/runs/{second['id']}/cancel", k)
    last = api.call("GET", f"/loom/runs/{second['id']}/logs", k).json()["logs"][-1]
    assert (last["level"], last["message"]) == ("warn", "run cancelled")


def test_bad_input_names_the_field(api: Api) -> None:
    k = api.admin_key
    a = _agent(api, k, "coder")
    api.call("POST", "/loom/workflows", k, json=FLOW)
    run = api.call("POST", "/loom/runs", k, json={"workflow_name": "release"}).json()
    before = api.table_counts()
    cases = [
        ("POST", f"/soma/agents/{a['id']}/log", {"json": {}}, "message"),
        ("POST", f"/soma/agents/{a['id']}/log", {"json": {"message": "x", "level": "loud"}}, "level"),
        ("POST", f"/soma/agents/{a['id']}/log", {"json": {"message": "x", "data": [1]}}, "data"),
        ("GET", f"/soma/agents/{a['id']}/logs", {"params": {"limit": 0}}, "limit"),
        ("GET", "/soma/agents/stale", {"params": {"minutes": "soon"}}, "minutes"),
        ("GET", f"/loom/runs/{run['id']}/logs", {"params": {"level": "debug"}}, "level"),
        ("GET", f"/loom/runs/{run['id']}/logs", {"params": {"limit": 5000}}, "limit"),
    ]
    for method, path, kw, field in cases:
        r = api.call(method, path, k, **kw)
        assert r.status_code == 400 and r.json()["field"] == field and r.json()["error"], (path, r.text)
    assert api.call("POST", "/soma/agents/999999/log", k, json={"message": "x"}).status_code == 404
    assert api.call("GET", "/loom/runs/999999/logs", k).status_code == 404
    assert api.table_counts() == before


def test_another_users_key_sees_no_logs(api: Api) -> None:
    alice, bob = api.user("alice"), api.user("bob")
    a = _agent(api, alice, "alice-agent")
    api.call("POST", f"/soma/agents/{a['id']}/log", alice, json={"message": "alice secret log"})
    api.call("POST", "/loom/workflows", alice, json=FLOW)
    run = api.call("POST", "/loom/runs", alice, json={"workflow_name": "release"}).json()
    assert api.call("GET", f"/soma/agents/{a['id']}/logs", bob).status_code == 404
    assert api.call("GET", f"/soma/agents/{a['id']}/log", bob).status_code == 404
    assert api.call("POST", f"/soma/agents/{a['id']}/log", bob, json={"message": "bob"}).status_code == 404
    assert api.call("GET", f"/loom/runs/{run['id']}/logs", bob).status_code == 404
    assert api.call("GET", "/soma/agents/stale", bob, params={"minutes": 0.01}).json()["count"] == 0
    assert api.table_counts()["soma_agent_logs"] == 1
