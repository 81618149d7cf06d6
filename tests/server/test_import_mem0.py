"""POST /import/mem0 with mem0's real shapes, written to files by the test: ``get_all`` of mem0 >= 1.1
(``{"results": [...], "relations": [...]}``), the v1.0 bare list, an export (``{"memories": [...]}``) and NDJSON.
Timestamps, user/agent/run ids, categories and metadata land in the memory; one bad item refuses the whole
file with its position and nothing written; a second import of the same file stores nothing again."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from engram_core.settings import Settings
from tests.conftest import BOOTSTRAP_SECRET
from tests.helpers import Api
from tests.support.tiny_models import install_tiny_model

JSON = {"Content-Type": "application/json"}


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    made = Settings.for_data_dir(tmp_path / "data", bootstrap_secret=BOOTSTRAP_SECRET, ttl_sweep_seconds=3600.0)
    install_tiny_model(made.models_dir)
    return made


def _item(i: int, text: str, user: str, **extra: Any) -> dict[str, Any]:
    """One memory as mem0's ``get_all`` returns it (MemoryItem + promoted payload keys)."""
    return {"id": f"3c90c3cc-0d44-4b50-8888-8dd2573605{i:02d}", "memory": text, "hash": f"{i:032x}",
            "metadata": None, "created_at": f"2024-07-{10 + i:02d}T23:57:00.108347-07:00",
            "updated_at": f"2024-07-{10 + i:02d}T23:59:00.000000-07:00", "user_id": user, **extra}  # fmt: skip


SAMPLE = {
    "results": [
        _item(
            1,
            "Is a vegetarian and allergic to nuts",
            "alice",
            categories=["food", "health"],
            metadata={"source": "onboarding", "importance": 8, "confidence": 0.9, "context": {"turn": 3}},
        ),
        _item(
            2,
            "Prefers window seats on long flights",
            "alice",
            agent_id="travel-agent",
            run_id="trip-2024-07",
            categories=["travel"],
            metadata={"category": "preferences", "tags": ["Flights"]},
        ),
        _item(3, "Works at Acme as a data engineer", "alice", actor_id="alice", role="user"),
        _item(4, "Plays the cello in a quartet on Thursdays", "bob", categories=["hobbies"]),
    ],
    "relations": [{"source": "alice", "relationship": "works_at", "target": "acme"}],
}


def _post(api: Api, key: str, path: Path, route: str = "/import/mem0", **params: Any) -> Any:
    return api.call("POST", route, key, content=path.read_bytes(), headers=JSON, params=params or None)


def _memories(api: Api, key: str) -> list[dict[str, Any]]:
    return list(api.call("GET", "/list", key, params={"limit": 500}).json()["results"])


def test_get_all_results_keep_timestamps_ids_categories_and_metadata(api: Api, tmp_path: Path) -> None:
    key = api.user("alice")
    export = tmp_path / "mem0-get-all.json"
    export.write_text(json.dumps(SAMPLE, indent=2), encoding="utf-8")
    r = _post(api, key, export)
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["format"] == "mem0" and body["imported"] == {"memory": 4} and body["records"] == 4
    assert body["dropped_metadata"] == 1  # the nested "context" object has no place in a memory
    mems = {m["content"]: m for m in _memories(api, key)}
    assert set(body["ids"].values()) == {m["id"] for m in mems.values()}
    diet = mems["Is a vegetarian and allergic to nuts"]
    assert diet["created_at"].startswith("2024-07-12T06:57:00")  # -07:00 kept as the same instant, in UTC
    assert diet["source"] == "mem0-import" and diet["category"] == "food" and diet["importance"] == 8
    assert {"mem0:3c90c3cc-0d44-4b50-8888-8dd257360501", "mem0-user:alice", "food", "health",
            "source:onboarding", "confidence:0.9"} <= set(diet["tags"])  # fmt: skip
    seat = mems["Prefers window seats on long flights"]
    assert seat["category"] == "preferences" and seat["session_id"] == "trip-2024-07"
    assert {"mem0-agent:travel-agent", "travel", "flights"} <= set(seat["tags"])
    assert {"mem0-actor:alice", "mem0-role:user"} <= set(mems["Works at Acme as a data engineer"]["tags"])
    # a mem0 user's memories are found by their tag
    bob = api.call("GET", "/list", key, params={"tags": "mem0-user:bob"}).json()["results"]
    assert [m["content"] for m in bob] == ["Plays the cello in a quartet on Thursdays"]

    again = _post(api, key, export)  # the same file twice: nothing stored again
    assert again.status_code == 201, again.text
    assert again.json()["imported"] == {"memory": 0} and again.json()["already_imported"] == 4
    assert again.json()["ids"] == body["ids"]
    assert len(_memories(api, key)) == 4


def test_v1_list_user_filter_space_export_shape_and_ndjson(api: Api, tmp_path: Path) -> None:
    key = api.user("carol")
    listed = tmp_path / "mem0-v1.json"
    listed.write_text(json.dumps(SAMPLE["results"]), encoding="utf-8")
    space = api.call("POST", "/spaces", key, json={"name": "from-mem0"}).json()["id"]
    r = _post(api, key, listed, user_id="bob", space_id=space)
    assert r.status_code == 201, r.text
    assert r.json()["imported"] == {"memory": 1} and r.json()["filtered"] == 3
    (only,) = _memories(api, key)
    assert only["content"].startswith("Plays the cello") and only["space_id"] == space
    # {"memories": [...]} through the generic POST /import is detected as mem0
    exported = tmp_path / "mem0-export.json"
    exported.write_text(json.dumps({"memories": [_item(7, "Drives an old green Volvo", "carol")]}), encoding="utf-8")
    r = _post(api, key, exported, route="/import")
    assert r.status_code == 201 and r.json()["format"] == "mem0", r.text
    lines = tmp_path / "mem0.ndjson"
    lines.write_text("\n".join(json.dumps(_item(8 + i, t, "carol")) for i, t in enumerate(["Likes rye", "Hates fog"])))
    r = api.call(
        "POST", "/import/mem0", key, content=lines.read_bytes(), headers={"Content-Type": "application/x-ndjson"}
    )
    assert r.status_code == 201 and r.json()["imported"] == {"memory": 2}, r.text
    assert len(_memories(api, key)) == 4


@pytest.mark.parametrize(
    ("document", "field"),
    [
        ({"results": [_item(1, "fine", "a"), {"id": "x", "user_id": "a"}]}, "results[1].memory"),
        (
            {"results": [_item(1, "fine", "a"), {**_item(2, "bad date", "a"), "created_at": "yesterday"}]},
            "results[1].created_at",
        ),
        ([_item(1, "fine", "a"), _item(2, "x" * 200_000, "a")], "[1].memory"),
        ({"results": [_item(1, "fine", "a"), "not an object"]}, "results[1]"),
        ({"results": [{**_item(1, "fine", "a"), "metadata": ["no"]}]}, "results[0].metadata"),
        ({"results": []}, "results"),
        ({"something": "else"}, "body"),
    ],
)
def test_a_bad_item_refuses_the_whole_file(api: Api, tmp_path: Path, document: Any, field: str) -> None:
    key = api.user("dave")
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(document), encoding="utf-8")
    before = api.table_counts()
    r = _post(api, key, bad)
    assert r.status_code == 400, r.text
    assert r.json()["field"] == field, r.json()
    assert api.table_counts() == before


def test_user_filter_without_match_and_a_foreign_space_write_nothing(api: Api, tmp_path: Path) -> None:
    key, other = api.user("erin"), api.user("frank")
    theirs = api.call("POST", "/spaces", other, json={"name": "franks"}).json()["id"]
    sample = tmp_path / "mem0.json"
    sample.write_text(json.dumps(SAMPLE), encoding="utf-8")
    before = api.table_counts()
    r = _post(api, key, sample, user_id="nobody")
    assert r.status_code == 400 and r.json()["field"] == "user_id", r.text
    r = _post(api, key, sample, space_id=theirs)
    assert 400 <= r.status_code < 500, r.text
    assert api.table_counts() == before
