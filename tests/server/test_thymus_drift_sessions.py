"""thymus drift events, drift summary and session quality through the API: shapes, filters, the computed
compliance rate, events on the quality channel, POST /activity recording both, error fields, and another
user's key seeing nothing."""

from __future__ import annotations

from tests.helpers import Api


def test_drift_events_are_recorded_listed_and_summarised(api: Api) -> None:
    k = api.admin_key
    r = api.call("POST", "/thymus/drift-events", k, json={"agent": "ana", "signal": "ignored the style guide",
                                                          "drift_type": "framework", "session_id": "s1"})  # fmt: skip
    assert r.status_code == 201, r.text
    ev = r.json()
    assert ev["severity"] == "low" and ev["drift_type"] == "framework" and ev["session_id"] == "s1" and ev["id"]
    for agent, kind, severity in [("ana", "safety", "high"), ("ana", "framework", "low"), ("bo", "meaning", "low")]:
        body = {"agent": agent, "signal": "x", "drift_type": kind, "severity": severity}
        assert api.call("POST", "/thymus/drift-events", k, json=body).status_code == 201
    listed = api.call("GET", "/thymus/drift-events", k, params={"agent": "ana"}).json()
    assert listed["count"] == 3 and [e["drift_type"] for e in listed["drift_events"]] == ["framework", "safety",
                                                                                          "framework"]  # fmt: skip
    high = api.call("GET", "/thymus/drift-events", k, params={"severity": "high"}).json()["drift_events"]
    assert [e["agent"] for e in high] == ["ana"]
    summary = api.call("GET", "/thymus/drift-summary", k, params={"agent": "ana"}).json()
    assert summary["summary"] == [{"drift_type": "framework", "severity": "low", "count": 2},
                                  {"drift_type": "safety", "severity": "high", "count": 1}]  # fmt: skip
    assert summary["total"] == 3 and summary["agent"] == "ana"
    assert api.call("GET", "/thymus/drift-summary", k).json()["total"] == 4
    quality = api.call("GET", "/axon/events", k, params={"channel": "quality"}).json()["events"]
    assert len(quality) == 4 and quality[-1]["action"] == "drift.detected" and quality[-1]["payload"]["id"] == ev["id"]
    assert api.call("GET", "/thymus/stats", k).json()["drift_events"] == 4


def test_session_quality_with_a_computed_compliance_rate(api: Api) -> None:
    k = api.admin_key
    body = {"session_id": "s9", "agent": "ana", "turn_count": 12, "rules_followed": ["cite", "brief", "polite"],
            "rules_drifted": ["no-emoji"], "personality_score": 0.8}  # fmt: skip
    r = api.call("POST", "/thymus/session-quality", k, json=body)
    assert r.status_code == 201, r.text
    row = r.json()
    assert row["rule_compliance_rate"] == 0.75 and row["rules_drifted"] == ["no-emoji"] and row["turn_count"] == 12
    given = api.call("POST", "/thymus/session-quality", k, json={"session_id": "s10", "agent": "bo",
                                                                 "rule_compliance_rate": 0.5}).json()  # fmt: skip
    assert given["rule_compliance_rate"] == 0.5 and given["rules_followed"] == []
    listed = api.call("GET", "/thymus/session-quality", k).json()
    assert [s["session_id"] for s in listed["session_quality"]] == ["s10", "s9"] and listed["count"] == 2
    assert api.call("GET", "/thymus/session-quality", k, params={"agent": "ana"}).json()["count"] == 1
    ev = api.call("GET", "/axon/events", k, params={"action": "session.quality"}).json()["events"]
    assert [e["payload"]["session_id"] for e in ev] == ["s10", "s9"]


def test_activity_reports_record_drift_and_session_quality(api: Api) -> None:
    k = api.admin_key
    r = api.call("POST", "/activity", k, json={"agent": "ana", "action": "drift.detected", "summary": "went off-brief",
                                               "details": {"drift_type": "priority", "severity": "medium"},
                                               "remember": False})  # fmt: skip
    assert r.status_code == 201, r.text
    drift = api.call("GET", "/thymus/drift-events", k).json()["drift_events"]
    assert [(d["id"], d["signal"], d["severity"]) for d in drift] == [
        (r.json()["drift_event_id"], "went off-brief", "medium")
    ]
    s = api.call("POST", "/activity", k, json={"agent": "ana", "action": "session.quality", "summary": "done",
                 "details": {"session_id": "s1", "rules_followed": ["a"]}, "remember": False}).json()  # fmt: skip
    assert api.call("GET", "/thymus/session-quality", k).json()["session_quality"][0]["id"] == s["session_quality_id"]
    plain = api.call("POST", "/activity", k, json={"agent": "ana", "action": "drift.detected", "summary": "vague",
                                                   "remember": False}).json()  # fmt: skip
    assert "drift_event_id" not in plain and plain["event_id"]  # no drift_type: an event, no drift record
    before = api.table_counts()
    bad = api.call("POST", "/activity", k, json={"agent": "ana", "action": "drift.detected", "summary": "x",
                                                 "details": {"drift_type": "vibes"}})  # fmt: skip
    assert bad.status_code == 400 and bad.json()["field"] == "details.drift_type", bad.text
    assert api.table_counts() == before  # nothing of the report was written


def test_bad_input_names_the_field(api: Api) -> None:
    k = api.admin_key
    cases = [
        ("POST", "/thymus/drift-events", {"json": {"agent": "a", "drift_type": "safety"}}, "signal"),
        ("POST", "/thymus/drift-events", {"json": {"agent": "a", "signal": "s", "drift_type": "mood"}}, "drift_type"),
        ("POST", "/thymus/drift-events", {"json": {"agent": "a", "signal": "s", "drift_type": "safety",
                                                   "severity": "dire"}}, "severity"),
        ("POST", "/thymus/session-quality", {"json": {"agent": "a"}}, "session_id"),
        ("POST", "/thymus/session-quality", {"json": {"agent": "a", "session_id": "s",
                                                      "turn_count": -1}}, "turn_count"),
        ("POST", "/thymus/session-quality", {"json": {"agent": "a", "session_id": "s",
                                                      "rule_compliance_rate": 1.5}}, "rule_compliance_rate"),
        ("POST", "/thymus/session-quality", {"json": {"agent": "a", "session_id": "s",
                                                      "rules_followed": "cite"}}, "rules_followed"),
        ("GET", "/thymus/drift-events", {"params": {"limit": 0}}, "limit"),
        ("GET", "/thymus/drift-summary", {"params": {"since": "yesterday-ish"}}, "since"),
        ("GET", "/thymus/session-quality", {"params": {"limit": 5000}}, "limit"),
    ]  # fmt: skip
    before = api.table_counts()
    for method, path, kw, field in cases:
        r = api.call(method, path, k, **kw)
        assert r.status_code == 400 and r.json()["field"] == field and r.json()["error"], (path, field, r.text)
    assert api.table_counts() == before


def test_another_users_key_sees_no_drift_or_sessions(api: Api) -> None:
    alice, bob = api.user("alice"), api.user("bob")
    api.call(
        "POST", "/thymus/drift-events", alice, json={"agent": "a", "signal": "alice-secret", "drift_type": "safety"}
    )
    api.call("POST", "/thymus/session-quality", alice, json={"agent": "a", "session_id": "alice-secret-session"})
    for path in ("/thymus/drift-events", "/thymus/session-quality", "/thymus/drift-summary", "/axon/events"):
        assert "alice-secret" not in api.call("GET", path, bob).text and "safety" not in api.call("GET", path, bob).text
    assert api.call("GET", "/thymus/drift-summary", bob).json()["total"] == 0
    stats = api.call("GET", "/thymus/stats", bob).json()
    assert stats["drift_events"] == 0 and stats["sessions"] == 0
