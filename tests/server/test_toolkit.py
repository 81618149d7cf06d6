"""/preferences, /state, /pack, /prompt and /batch (issue 14): shapes, merges, budgets, batches that stop at
the first failure, and refused input that names the field and writes nothing."""

from __future__ import annotations

import json
import re

from tests.helpers import Api


def _count(api: Api, table: str) -> int:
    return int(api.engram.db.read(lambda c: c.execute(f"SELECT count(*) FROM {table}").fetchone()[0]))


def test_preferences_merge_remove_and_delete(api: Api) -> None:
    key = api.user("pia")
    assert api.call("GET", "/preferences", key).json() == {"preferences": {}, "count": 0, "updated_at": None}
    r = api.call("PUT", "/preferences", key, json={"preferences": {"language": "British English", "units": "metric",
                                                                    "verbosity": {"max_words": 120}}})  # fmt: skip
    assert r.status_code == 200, r.text
    assert r.json()["set"] == 3 and r.json()["count"] == 3
    r = api.call("PUT", "/preferences", key, json={"preferences": {"units": None, "tone": "dry"}})
    assert r.json()["preferences"] == {"language": "British English", "tone": "dry", "verbosity": {"max_words": 120}}
    assert (r.json()["set"], r.json()["removed"]) == (1, 1)
    got = api.call("GET", "/preferences", key).json()
    assert got["preferences"]["verbosity"] == {"max_words": 120} and got["updated_at"]
    assert api.call("DELETE", "/preferences", key, params={"key": "tone"}).json() == {"deleted": 1, "key": "tone"}
    r = api.call("DELETE", "/preferences", key, params={"key": "tone"})
    assert r.status_code == 404 and "tone" in r.json()["error"]
    assert api.call("DELETE", "/preferences", key).json() == {"deleted": 2}
    assert api.call("GET", "/preferences", key).json()["count"] == 0


def test_preferences_refuse_bad_input_and_write_nothing(api: Api) -> None:
    key = api.user("quinn")
    for body, field in (({}, "preferences"), ({"preferences": {}}, "preferences"), ({"preferences": []}, "preferences"),
                        ({"preferences": {"x" * 101: 1}}, "preferences." + "x" * 40),
                        ({"preferences": {"big": "y" * 20_000}}, "preferences.big"),
                        ({"preferences": {str(i): i for i in range(101)}}, "preferences")):  # fmt: skip
        r = api.call("PUT", "/preferences", key, json=body)
        assert r.status_code == 400 and r.json()["field"] == field, (field, r.text)
    assert _count(api, "user_preferences") == 0
    # Past the 500-key cap: the whole patch is refused (one transaction), the earlier keys stay.
    for start in range(0, 500, 100):
        patch = {f"k{i}": i for i in range(start, start + 100)}
        assert api.call("PUT", "/preferences", key, json={"preferences": patch}).status_code == 200
    r = api.call("PUT", "/preferences", key, json={"preferences": {"k0": None, "new1": 1, "new2": 2}})
    assert r.status_code == 409, r.text
    assert api.call("GET", "/preferences", key).json()["preferences"]["k0"] == 0
    assert _count(api, "user_preferences") == 500


def test_state_is_per_agent(api: Api) -> None:
    key = api.user("rae")
    r = api.call("PUT", "/state", key, json={"agent": "coder", "state": {"task": "fix #12", "step": 3}})
    assert r.status_code == 200 and r.json()["state"] == {"step": 3, "task": "fix #12"}
    api.call("PUT", "/state", key, json={"state": {"mood": "calm"}})
    assert api.call("GET", "/state", key, params={"agent": "coder"}).json()["state"] == {"step": 3, "task": "fix #12"}
    assert api.call("GET", "/state", key).json() | {"updated_at": None} == {
        "agent": "default", "state": {"mood": "calm"}, "count": 1, "updated_at": None}  # fmt: skip
    r = api.call("DELETE", "/state", key, params={"agent": "coder", "key": "step"})
    assert r.json() == {"agent": "coder", "deleted": 1, "key": "step"}
    assert api.call("DELETE", "/state", key, params={"agent": "coder"}).json()["deleted"] == 1
    assert api.call("GET", "/state", key, params={"agent": "coder"}).json()["state"] == {}
    assert api.call("GET", "/state", key).json()["count"] == 1  # the default agent's state is untouched
    r = api.call("PUT", "/state", key, json={"agent": "coder", "state": "not an object"})
    assert r.status_code == 400 and r.json()["field"] == "state"


def _fill(api: Api, key: str) -> dict[str, int]:
    ids = {"static": api.store(key, "Sam's name is Samwise and he is allergic to peanuts", is_static=True,
                               category="fact", importance=9)}  # fmt: skip
    ids["kayak"] = api.store(key, "Sam bought a red kayak for the lake trips in July", importance=6)
    for i in range(40):  # distinct words each, or the near-duplicate check folds them together
        api.store(key, f"Sam's meeting note {i}: " + " ".join(f"topic{i}{c}" for c in "abcdefgh"), importance=3)
    return ids


def test_pack_fits_the_budget_in_every_format(api: Api) -> None:
    key = api.user("sam")
    ids = _fill(api, key)
    r = api.call("POST", "/pack", key, json={"context": "what boat does Sam have?", "token_budget": 200})
    assert r.status_code == 200, r.text
    body = r.json()
    assert set(body) >= {"packed", "memories_included", "tokens_estimated", "token_budget", "utilization"}
    assert body["token_budget"] == 200 and 0 < body["tokens_estimated"] <= 200
    assert re.fullmatch(r"\d+%", body["utilization"])
    assert body["memory_ids"][0] == ids["static"] and ids["kayak"] in body["memory_ids"]
    assert body["packed"].startswith("- [fact] Sam's name is Samwise")
    assert body["memories_included"] < 42  # the budget left most of the notes out
    as_json = api.call("POST", "/pack", key, json={"token_budget": 300, "format": "json"}).json()
    items = json.loads(as_json["packed"])
    assert [m["id"] for m in items] == as_json["memory_ids"] and as_json["tokens_estimated"] <= 300
    assert items[0]["id"] == ids["static"] and items[1]["id"] == ids["kayak"]  # no context: importance order
    as_xml = api.call("POST", "/pack", key, json={"token_budget": 128_000, "format": "xml"}).json()
    assert as_xml["packed"].startswith("<memories>") and as_xml["memories_included"] == 42
    for body, field in (({"format": "yaml"}, "format"), ({"token_budget": 50}, "token_budget"),
                        ({"context": 7}, "context")):  # fmt: skip
        r = api.call("POST", "/pack", key, json=body)
        assert r.status_code == 400 and r.json()["field"] == field, r.text
    empty = api.call("POST", "/pack", api.user("nobody"), json={"context": "kayak"}).json()
    assert empty["packed"] == "" and empty["memories_included"] == 0  # another user's memories never come


def test_prompt_frames_preferences_and_memories_for_each_model_family(api: Api) -> None:
    key = api.user("tess")
    ids = _fill(api, key)
    api.call("PUT", "/preferences", key, json={"preferences": {"language": "French", "tone": "brief"}})
    seen = {}
    for fmt in ("raw", "anthropic", "openai", "llamaindex"):
        r = api.call("GET", "/prompt", key, params={"format": fmt, "tokens": 300, "context": "kayak"})
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["format"] == fmt and 0 < body["tokens_estimated"] <= 300
        assert "language: French" in body["prompt"] and "red kayak" in body["prompt"]
        assert body["memory_ids"][0] == ids["static"] and body["preferences_included"] == 2
        seen[fmt] = body["prompt"]
    assert "<user_preferences>" in seen["anthropic"] and "<memory id=" in seen["anthropic"]
    assert "## Preferences" in seen["openai"] and "## Memories" in seen["openai"]
    assert seen["llamaindex"].startswith("Context information is below.")
    r = api.call("GET", "/prompt", key, params={"format": "gemini"})
    assert r.status_code == 400 and r.json()["field"] == "format"


def test_batch_runs_in_order_and_answers_each_op(api: Api) -> None:
    key = api.user("uma")
    first = api.store(key, "Uma's first note about tides")
    ops = [
        {"op": "store", "body": {"content": "Uma keeps bees on the roof", "tags": ["bees"]}},
        {"op": "store", "body": {"content": "Uma keeps bees on the roof"}},  # a duplicate of the one above
        {"op": "update", "body": {"id": first, "content": "Uma's first note about spring tides"}},
        {"op": "link", "body": {"source_id": first, "target_id": first + 1, "similarity": 0.8}},
    ]
    r = api.call("POST", "/batch", key, json={"ops": ops})
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["total"], body["succeeded"]) == (4, 4)
    results = [x["result"] for x in body["results"]]
    assert results[0]["stored"] is True and results[0]["id"] == first + 1
    assert results[1] == {"stored": False, "duplicate": True, "existing_id": first + 1}
    assert results[2]["id"] == first and results[2]["updated"] is True
    assert results[3] | {"link_id": 0} == {"linked": True, "source_id": first, "target_id": first + 1,
                                           "type": "related", "link_id": 0}  # fmt: skip
    got = api.call("GET", f"/memory/{results[0]['id']}", key).json()
    assert got["source"] == "batch" and got["tags"] == ["bees"]


def test_batch_stops_at_the_first_failure(api: Api) -> None:
    key, other = api.user("vic"), api.user("wren")
    theirs = api.store(other, "Wren's private note about owls")
    before = _count(api, "memories")
    ops = [
        {"op": "store", "body": {"content": "Vic rows on Sundays"}},
        {"op": "update", "body": {"id": theirs, "content": "taken over"}},  # another user's memory: not found
        {"op": "store", "body": {"content": "Vic never gets here"}},
    ]
    r = api.call("POST", "/batch", key, json={"ops": ops})
    assert r.status_code == 207, r.text
    body = r.json()
    assert (body["total"], body["succeeded"], len(body["results"])) == (3, 1, 2)
    failed = body["results"][1]
    assert failed["success"] is False and failed["index"] == 1 and str(theirs) in failed["error"]
    assert _count(api, "memories") == before + 1  # the first store stayed, the third never ran
    assert api.call("GET", f"/memory/{theirs}", other).json()["content"] == "Wren's private note about owls"
    bad = api.call("POST", "/batch", key, json={"ops": [{"op": "store", "body": {"content": "   "}}]}).json()
    assert bad["results"][0]["field"] == "ops[0].body.content"


def test_batch_refuses_a_malformed_list_whole(api: Api) -> None:
    key = api.user("xan")
    before = _count(api, "memories")
    cases = (({"ops": []}, "ops"), ({"ops": "x"}, "ops"), ({}, "ops"),
             ({"ops": [{"op": "store", "body": {"content": "ok"}}] * 101}, "ops"),
             ({"ops": [{"op": "store", "body": {"content": "ok"}}, {"op": "drop", "body": {}}]}, "ops[1].op"),
             ({"ops": [{"op": "store", "body": {"content": "ok", "colour": "red"}}]}, "ops[0].body.colour"),
             ({"ops": [{"op": "link", "body": None}]}, "ops[0].body"))  # fmt: skip
    for body, field in cases:
        r = api.call("POST", "/batch", key, json=body)
        assert r.status_code == 400 and r.json()["field"] == field, (field, r.text)
    assert _count(api, "memories") == before
