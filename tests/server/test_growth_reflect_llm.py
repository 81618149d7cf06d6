"""POST /growth/reflect with an LLM configured: a fake OpenAI-compatible server on loopback (real HTTP) writes
the reflection from the observations; when it answers 500 after the client's retries, the rules write it."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from engram_core.settings import Settings
from engram_server.app import create_app
from tests.fake_openai import FakeOpenAI
from tests.helpers import Api

SECRET = "growth-secret"
ANSWER = "You have been on the move: Paris, then Lyon, and now Berlin, each city a new chapter."
RULES = "Growth over time: You moved from Paris to Lyon (2024-06-01). You moved from Lyon to Berlin (2025-02-01)."


def _reply(body: dict[str, Any]) -> str:
    """The reflection for the growth prompt; anything else (facts, decomposition ...) is left to the rules."""
    if "changed over time" in body["messages"][0]["content"]:
        return json.dumps({"reflection": ANSWER})
    return json.dumps({})


def _growth_calls(fake: FakeOpenAI) -> list[str]:
    """The user message of every growth-reflection request the fake received."""
    return [b["messages"][1]["content"] for b in fake.chat_requests()
            if "changed over time" in b["messages"][0]["content"]]  # fmt: skip


@pytest.fixture
def llm_api(tmp_path: Path, migrated_db: Path) -> Iterator[tuple[Api, FakeOpenAI]]:
    with FakeOpenAI(reply=_reply) as fake:
        settings = Settings.for_data_dir(tmp_path / "data", bootstrap_secret=SECRET, ttl_sweep_seconds=3600.0,
                                         llm_url=fake.url, llm_model="fake", llm_max_retries=1,
                                         llm_timeout_seconds=2.0)  # fmt: skip
        settings.db_path.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(migrated_db, settings.db_path)
        with TestClient(create_app(settings), raise_server_exceptions=False) as client:
            r = client.post("/bootstrap", json={"secret": SECRET})
            assert r.status_code == 201, r.text
            api = Api(client, r.json()["key"])
            api.engram.llm.backoff = 0.01
            yield api, fake


def _moves(api: Api) -> list[int]:
    key = api.admin_key
    ids = [api.store(key, text, created_at=at) for text, at in (("I live in Paris.", "2024-01-10T09:00:00Z"),
           ("I moved to Lyon.", "2024-06-01T09:00:00Z"), ("I moved to Berlin.", "2025-02-01T09:00:00Z"))]  # fmt: skip
    portal = api.client.portal
    assert portal is not None
    portal.call(api.engram.jobs.drain)
    api.engram.llm.breaker.success()  # whatever the store jobs asked does not weigh on the reflection's call
    return ids


def test_the_llm_writes_the_growth_reflection_from_the_observations(llm_api: tuple[Api, FakeOpenAI]) -> None:
    api, fake = llm_api
    ids = _moves(api)
    r = api.call("POST", "/growth/reflect", api.admin_key, json={})
    assert r.status_code == 201, r.text
    made = r.json()
    assert (made["tier"], made["content"], made["count"]) == ("llm", ANSWER, 2)
    assert made["source_memory_ids"] == sorted(ids)
    [sent] = _growth_calls(fake)
    assert "2024-06-01: You moved from Paris to Lyon." in sent and "2025-02-01: You moved from Lyon to Berlin." in sent
    assert sent.index("Paris to Lyon") < sent.index("Lyon to Berlin")  # oldest change first
    stored = api.call("GET", f"/memory/{made['id']}", api.admin_key).json()
    assert (stored["content"], stored["category"]) == (ANSWER, "reflection")
    listed = api.call("GET", "/reflections", api.admin_key).json()["reflections"]
    assert [(x["id"], x["source_memory_ids"]) for x in listed] == [(made["id"], sorted(ids))]
    # The same observations again: the reflection is found by its key, not written (nor paid for) twice.
    again = api.call("POST", "/growth/reflect", api.admin_key, json={})
    assert again.status_code == 200 and (again.json()["stored"], again.json()["id"]) == (False, made["id"])
    assert again.json()["content"] == ANSWER and len(_growth_calls(fake)) == 1
    # Other observations (a narrower period) are a new reflection.
    recent = api.call("POST", "/growth/reflect", api.admin_key, json={"since": "2025-01-01T00:00:00Z"})
    assert recent.status_code == 201 and recent.json()["id"] != made["id"] and len(_growth_calls(fake)) == 2


def test_a_failing_llm_falls_back_to_the_rules_after_its_retries(llm_api: tuple[Api, FakeOpenAI]) -> None:
    api, fake = llm_api
    _moves(api)
    fake.mode = "500"
    r = api.call("POST", "/growth/reflect", api.admin_key, json={})
    assert r.status_code == 201, r.text
    assert (r.json()["tier"], r.json()["content"]) == ("rules", RULES)
    assert len(_growth_calls(fake)) == 2  # the call and its one retry (llm_max_retries=1)
    assert api.call("GET", f"/memory/{r.json()['id']}", api.admin_key).json()["content"] == RULES
    # Once the LLM is back, the same observations are still written down already: no second reflection.
    fake.mode = "ok"
    api.engram.llm.breaker.success()
    again = api.call("POST", "/growth/reflect", api.admin_key, json={})
    assert (again.json()["stored"], again.json()["id"], again.json()["content"]) == (False, r.json()["id"], RULES)
    assert len(_growth_calls(fake)) == 2


def test_an_answer_without_a_reflection_falls_back_to_the_rules(llm_api: tuple[Api, FakeOpenAI]) -> None:
    api, fake = llm_api
    _moves(api)
    fake.reply = lambda body: json.dumps({"reflection": "  "})
    r = api.call("POST", "/growth/reflect", api.admin_key, json={})
    assert (r.status_code, r.json()["tier"], r.json()["content"]) == (201, "rules", RULES)
    assert len(_growth_calls(fake)) == 1


def test_two_requests_racing_through_the_llm_store_one_reflection(llm_api: tuple[Api, FakeOpenAI]) -> None:
    """The second request arrives while the LLM is still writing the first one's reflection: it stores first,
    and the first, when its answer comes, finds it in the store's transaction and stores nothing."""
    api, fake = llm_api
    _moves(api)
    second: list[Any] = []

    def reply(body: dict[str, Any]) -> str:
        if not second:  # the first request's call: the second request runs now (its own call answers at once)
            second.append(None)
            second[0] = api.call("POST", "/growth/reflect", api.admin_key, json={})
        return _reply(body)

    fake.reply = reply
    first = api.call("POST", "/growth/reflect", api.admin_key, json={})
    assert second[0].status_code == 201 and second[0].json()["stored"] is True, second[0].text
    assert first.status_code == 200 and first.json()["stored"] is False, first.text
    assert first.json()["id"] == second[0].json()["id"] and first.json()["content"] == ANSWER
    listed = api.call("GET", "/reflections", api.admin_key).json()["reflections"]
    assert [x["id"] for x in listed] == [second[0].json()["id"]] and len(_growth_calls(fake)) == 2
