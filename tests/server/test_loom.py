"""loom through the API: definitions checked, steps ready when their dependencies complete, transform
steps run inline, retries then failure, timeouts by the periodic check, cancel, and users apart."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from engram_core.timeutil import format_ts
from tests.helpers import Api

FLOW = {
    "name": "release",
    "steps": [
        {"name": "build", "type": "action", "config": {"cmd": "make"}},
        {"name": "test", "type": "action", "depends_on": ["build"], "max_retries": 1},
        {"name": "notes", "type": "transform", "depends_on": ["build"],
         "config": {"template": {"title": "Release {{version}}", "artifact": "{{artifact}}"}}},
        {"name": "ship", "type": "action", "depends_on": ["test", "notes"]},
    ],
}  # fmt: skip


def _steps(run: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {s["name"]: s for s in run["steps"]}


def test_definitions_are_checked(api: Api) -> None:
    k = api.admin_key
    bad = [
        ({"name": "x", "steps": []}, "steps"),
        ({"name": "x", "steps": [{"name": "a", "type": "teleport"}]}, "steps[0].type"),
        ({"name": "x", "steps": [{"name": "a", "type": "action", "depends_on": ["zz"]}]}, "steps[0].depends_on"),
        ({"name": "x", "steps": [{"name": "a", "type": "action"}, {"name": "a", "type": "wait"}]}, "steps"),
        ({"name": "x", "steps": [{"name": "a", "type": "action", "depends_on": ["b"]},
                                 {"name": "b", "type": "action", "depends_on": ["a"]}]}, "steps"),
    ]  # fmt: skip
    for body, field in bad:
        r = api.call("POST", "/loom/workflows", k, json=body)
        assert r.status_code == 400 and r.json()["field"] == field, r.text
    assert api.call("POST", "/loom/workflows", k, json=FLOW).status_code == 201
    assert api.call("POST", "/loom/workflows", k, json=FLOW).status_code == 409


def test_a_run_follows_dependencies_retries_and_completes(api: Api) -> None:
    k = api.admin_key
    wf = api.call("POST", "/loom/workflows", k, json=FLOW).json()
    run = api.call("POST", "/loom/runs", k, json={"workflow_name": "release", "input": {"version": "1.2"}}).json()
    s = _steps(run)
    assert run["status"] == "running" and s["build"]["status"] == "running" and s["test"]["status"] == "pending"
    assert api.call("POST", f"/loom/steps/{s['test']['id']}/complete", k, json={"output": 1}).status_code == 409
    api.call("POST", f"/loom/steps/{s['build']['id']}/complete", k, json={"output": {"artifact": "app.tgz"}})
    s = _steps(api.call("GET", f"/loom/runs/{run['id']}", k).json())
    assert s["notes"]["status"] == "completed"
    assert s["notes"]["output"] == {"title": "Release 1.2", "artifact": "app.tgz"}
    assert s["test"]["status"] == "running" and s["test"]["input"] == {"version": "1.2", "artifact": "app.tgz"}
    first = api.call("POST", f"/loom/steps/{s['test']['id']}/fail", k, json={"error": "flaky"}).json()
    assert first["retried"] is True and first["run"]["status"] == "running"
    api.call("POST", f"/loom/steps/{s['test']['id']}/complete", k, json={"output": {"passed": 12}})
    s = _steps(api.call("GET", f"/loom/runs/{run['id']}", k).json())
    assert s["test"]["retry_count"] == 1 and s["ship"]["status"] == "running"
    api.call("POST", f"/loom/steps/{s['ship']['id']}/complete", k, json={"output": {"url": "https://x"}})
    done = api.call("GET", f"/loom/runs/{run['id']}", k).json()
    assert done["status"] == "completed" and done["output"] == {"url": "https://x"} and done["completed_at"]
    events = [e["action"] for e in api.call("GET", "/axon/events", k, params={"channel": "loom"}).json()["events"]]
    assert events[0] == "loom.run.completed" and events.count("loom.step.ready") == 4  # build, test x2, ship
    stats = api.call("GET", "/loom/stats", k).json()
    assert stats == {"workflows": 1, "runs": 1, "active_runs": 0, "steps": 4}
    assert api.call("GET", "/loom/runs", k, params={"workflow_id": wf["id"]}).json()["count"] == 1


def test_failures_past_retries_fail_the_run_and_timeouts_count(api: Api) -> None:
    k = api.admin_key
    api.call(
        "POST",
        "/loom/workflows",
        k,
        json={
            "name": "one",
            "steps": [
                {"name": "a", "type": "action", "max_retries": 0},
                {"name": "b", "type": "action", "depends_on": ["a"]},
            ],
        },
    )
    run = api.call("POST", "/loom/runs", k, json={"workflow_name": "one"}).json()
    a = _steps(run)["a"]
    out = api.call("POST", f"/loom/steps/{a['id']}/fail", k, json={"error": "disk full"}).json()
    assert out["retried"] is False and out["run"]["status"] == "failed" and "disk full" in out["run"]["error"]
    assert _steps(api.call("GET", f"/loom/runs/{run['id']}", k).json())["b"]["status"] == "skipped"

    api.call(
        "POST",
        "/loom/workflows",
        k,
        json={"name": "slow", "steps": [{"name": "wait", "type": "wait", "timeout_ms": 1000, "max_retries": 1}]},
    )
    run = api.call("POST", "/loom/runs", k, json={"workflow_name": "slow"}).json()
    old = format_ts(datetime.now(UTC) - timedelta(seconds=5))
    step_id = run["steps"][0]["id"]
    set_old = lambda c: c.execute("UPDATE loom_steps SET started_at = ? WHERE id = ?", (old, step_id))  # noqa: E731
    api.engram.db.write(set_old)
    assert api.client.portal.call(api.engram.services.loom.check_timeouts) == 1  # retried
    api.engram.db.write(set_old)
    api.client.portal.call(api.engram.services.loom.check_timeouts)
    failed = api.call("GET", f"/loom/runs/{run['id']}", k).json()
    assert failed["status"] == "failed" and "timed out" in failed["error"]

    run = api.call("POST", "/loom/runs", k, json={"workflow_name": "slow"}).json()
    assert api.call("POST", f"/loom/runs/{run['id']}/cancel", k).json()["ok"] is True
    assert api.call("POST", f"/loom/runs/{run['id']}/cancel", k).json()["ok"] is False
    assert _steps(api.call("GET", f"/loom/runs/{run['id']}", k).json())["wait"]["status"] == "skipped"


def test_users_apart(api: Api) -> None:
    alice, bob = api.user("alice"), api.user("bob")
    wf = api.call("POST", "/loom/workflows", alice, json=FLOW).json()
    run = api.call("POST", "/loom/runs", alice, json={"workflow_id": wf["id"]}).json()
    step = run["steps"][0]["id"]
    assert api.call("POST", "/loom/runs", bob, json={"workflow_id": wf["id"]}).status_code == 404
    assert api.call("POST", "/loom/runs", bob, json={"workflow_name": "release"}).status_code == 404
    assert api.call("POST", f"/loom/steps/{step}/complete", bob, json={"output": {}}).status_code == 404
    assert api.call("GET", f"/loom/runs/{run['id']}", bob).status_code == 404
    assert api.call("GET", "/loom/workflows", bob).json()["workflows"] == []
