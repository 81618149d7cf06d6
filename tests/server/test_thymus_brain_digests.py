"""thymus (rubrics, evaluations, metrics), brain (stats, query, absorb, feedback) and digests."""

from __future__ import annotations

import time
from typing import Any

from tests.helpers import Api

RUBRIC = {"name": "answer quality", "criteria": [
    {"name": "accuracy", "weight": 3}, {"name": "style", "weight": 1, "scale_min": 1, "scale_max": 5}]}  # fmt: skip


def test_rubrics_and_weighted_evaluations(api: Api) -> None:
    k = api.admin_key
    for bad, field in (({"name": "r", "criteria": []}, "criteria"),
                       ({"name": "r", "criteria": [{"name": "a", "weight": 0}]}, "criteria[0].weight"),
                       ({"name": "r", "criteria": [{"name": "a", "scale_min": 2, "scale_max": 1}]},
                        "criteria[0].scale_max")):  # fmt: skip
        r = api.call("POST", "/thymus/rubrics", k, json=bad)
        assert r.status_code == 400 and r.json()["field"] == field, r.text
    rubric = api.call("POST", "/thymus/rubrics", k, json=RUBRIC).json()
    assert rubric["criteria"][1] == {"name": "style", "weight": 1.0, "scale_min": 1.0, "scale_max": 5.0,
                                     "description": ""}  # fmt: skip
    body = {"rubric_id": rubric["id"], "agent": "writer", "subject": "reply 1", "scores": {"accuracy": 1, "style": 3}}
    ev = api.call("POST", "/thymus/evaluate", k, json=body)
    assert ev.status_code == 201, ev.text
    assert ev.json()["overall_score"] == round((3 * 1.0 + 1 * 0.5) / 4, 6) and ev.json()["evaluator"] == "agent"
    miss = api.call("POST", "/thymus/evaluate", k, json={**body, "scores": {"accuracy": 1}})
    assert miss.status_code == 400 and miss.json()["field"] == "scores.style"
    out = api.call("POST", "/thymus/evaluate", k, json={**body, "scores": {"accuracy": 2, "style": 3}})
    assert out.status_code == 400 and out.json()["field"] == "scores.accuracy"
    nollm = api.call("POST", "/thymus/evaluate", k, json={k2: v for k2, v in body.items() if k2 != "scores"})
    assert nollm.status_code == 400 and nollm.json()["field"] == "scores"
    api.call("POST", "/thymus/evaluate", k, json={**body, "scores": {"accuracy": 0, "style": 5}})
    scores = api.call("GET", "/thymus/agents/writer/scores", k).json()
    assert scores["evaluation_count"] == 2 and scores["by_criterion"]["style"]["max"] == 5.0
    assert api.call("GET", "/thymus/evaluations", k, params={"agent": "writer"}).json()["count"] == 2
    upd = api.call("PATCH", f"/thymus/rubrics/{rubric['id']}", k, json={"description": "v2"}).json()
    assert upd["description"] == "v2" and len(upd["criteria"]) == 2
    stats = api.call("GET", "/thymus/stats", k).json()
    assert stats["rubrics"] == 1 and stats["evaluations"] == 2 and stats["by_rubric"][0]["evaluations"] == 2


def test_metrics_and_summaries_over_time(api: Api) -> None:
    k = api.admin_key
    for v in (0.5, 0.7, 0.9):
        assert (
            api.call("POST", "/thymus/metrics", k, json={"agent": "a", "metric": "latency", "value": v}).status_code
            == 201
        )
    api.call("POST", "/thymus/metrics", k, json={"agent": "b", "metric": "latency", "value": 9})
    s = api.call("GET", "/thymus/metrics/summary", k, params={"agent": "a", "metric": "latency"}).json()
    assert s["count"] == 3 and s["min"] == 0.5 and s["max"] == 0.9 and abs(s["avg"] - 0.7) < 1e-9
    assert len(s["series"]) == 1 and s["series"][0]["count"] == 3
    empty = api.call("GET", "/thymus/metrics/summary", k, params={"agent": "nobody"}).json()
    assert empty["count"] == 0 and empty["avg"] is None
    assert api.call("GET", "/thymus/metrics", k, params={"metric": "latency"}).json()["count"] == 4


def test_brain_stats_query_absorb_feedback(api: Api) -> None:
    k = api.admin_key
    a = api.store(k, "The release train leaves on Friday afternoon")
    b = api.store(k, "The release train never leaves on Friday")
    api.call("POST", "/links", k, json={"source_id": a, "target_id": b, "link_type": "contradicts"})
    api.call("POST", "/tasks", k, json={"title": "Prepare the release train notes"})
    api.call("POST", "/broca/actions", k, json={"agent": "ops", "action": "announce", "target": "release train"})
    stats = api.call("GET", "/brain/stats", k).json()
    assert stats["ok"] is True and stats["stats"]["memories"] == 2 and stats["stats"]["tasks"] == 1
    res = api.call("POST", "/brain/query", k, json={"query": "release train Friday", "top_k": 5}).json()["result"]
    assert {m["id"] for m in res["activated"]} == {a, b}
    assert {(c["winner_id"], c["loser_id"]) for c in res["contradictions"]} <= {(a, b), (b, a)}
    assert len(res["contradictions"]) == 1
    assert res["tasks"][0]["title"].startswith("Prepare") and res["actions"][0]["agent"] == "ops"
    assert api.call("POST", "/brain/absorb", k, json={"id": a}).json() == {"ok": True, "id": a}
    assert api.call("POST", "/brain/absorb", k, json={"id": 999999}).status_code == 404
    fb = api.call("POST", "/brain/feedback", k, json={"memory_ids": [a], "edge_pairs": [[a, b]], "useful": True})
    assert fb.status_code == 200, fb.text
    data = fb.json()["result"]["data"]
    # Every link between the pair is reweighted: the hand-made one and the one contradiction detection added.
    links = api.engram.db.read(
        lambda c: c.execute(
            "SELECT count(*) FROM memory_links WHERE (source_id, target_id) IN (VALUES (?, ?), (?, ?))", (a, b, b, a)
        ).fetchone()[0]
    )
    assert links >= 1
    assert data["reinforced"] == [{"id": a, "new_strength": 1.0}] and data["edges"][0]["reweighted"] == links
    bob = api.user("bob")
    assert api.call("POST", "/brain/feedback", bob, json={"memory_ids": [a], "useful": False}).status_code == 404
    assert api.call("POST", "/brain/query", bob, json={"query": "release train"}).json()["result"]["activated"] == []
    # an id past SQLite's INTEGER names no memory: a 400 on the field, not an OverflowError (schemathesis found it)
    for body in (
        {"memory_ids": [2**63], "useful": True},
        {"memory_ids": [a], "edge_pairs": [[a, 2**70]], "useful": True},
    ):
        r = api.call("POST", "/brain/feedback", k, json=body)
        assert r.status_code == 400 and r.json()["field"] in {"memory_ids", "edge_pairs"}, r.text


def test_digests_are_stored_listed_and_sent_as_events(api: Api) -> None:
    k = api.admin_key
    api.store(k, "Decided to move the standup to 9:30", importance=8)
    api.call("POST", "/tasks", k, json={"title": "Book the room", "status": "completed", "agent": "ana"})
    api.call("POST", "/webhooks", k, json={"url": "https://hooks.example.com/d", "events": ["digest.generated"]})
    d = api.call("POST", "/digests/generate", k, json={"period": "weekly"})
    assert d.status_code == 201, d.text
    digest = d.json()
    assert digest["period"] == "weekly" and digest["memory_count"] == 1
    assert "standup to 9:30" in digest["content"] and "done: Book the room (ana)" in digest["content"]
    assert api.call("GET", "/digests", k).json()["digests"][0]["id"] == digest["id"]
    ev = api.call("GET", "/axon/events", k, params={"channel": "digests"}).json()["events"][0]
    assert ev["action"] == "digest.generated" and ev["payload"]["id"] == digest["id"]

    def deliveries(conn: Any) -> int:
        return int(
            conn.execute("SELECT count(*) FROM webhook_deliveries WHERE event = 'digest.generated'").fetchone()[0]
        )

    assert api.engram.db.read(deliveries) == 1
    assert api.call("GET", "/digests", api.user("bob")).json()["digests"] == []
    for _ in range(50):  # the scheduled run skips a user who has a digest since their last memory
        if api.client.portal.call(api.engram.services.digests.scheduled) == 0:
            break
        time.sleep(0.05)
    assert api.call("GET", "/digests", k).json()["count"] == 1


def test_brain_query_spreads_along_links_and_sharpens_with_beta(api: Api) -> None:
    k = api.admin_key
    a = api.store(k, "The heron nests by the quiet river bend")
    b = api.store(k, "Kingfishers dive for minnows in spring")
    c = api.store(k, "Otters were seen upstream at dusk")
    api.call("POST", "/links", k, json={"source_id": a, "target_id": b, "link_type": "related"})
    api.call("POST", "/links", k, json={"source_id": b, "target_id": c, "link_type": "related"})
    q = {"query": "heron river", "top_k": 1}  # search finds the heron; links lead on to the others
    plain = api.call("POST", "/brain/query", k, json=q).json()["result"]["activated"]
    assert [m["id"] for m in plain] == [a]
    spread = api.call("POST", "/brain/query", k, json={**q, "spread_hops": 2}).json()["result"]
    hops = {m["id"]: m.get("hop") for m in spread["activated"]}
    assert hops == {a: None, b: 1, c: 2}
    acts = [m["activation"] for m in spread["activated"]]
    assert acts[0] > acts[1] > acts[2] > 0
    flat = api.call("POST", "/brain/query", k, json={**q, "spread_hops": 2, "beta": 0}).json()
    assert [m["activation"] for m in flat["result"]["activated"]] == [round(1 / 3, 6)] * 3
    sharp = api.call("POST", "/brain/query", k, json={**q, "spread_hops": 2, "beta": 50}).json()
    assert sharp["result"]["activated"][0]["activation"] > 0.9
