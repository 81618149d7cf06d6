"""POST /add: a chat becomes durable memories (rules tier, and an LLM tier on a loopback fake that falls
back to the rules when the fake fails)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from starlette.testclient import TestClient

from engram_core.settings import Settings
from engram_server.app import create_app
from tests.fake_openai import FakeOpenAI
from tests.helpers import Api

CHAT = [
    {"role": "user", "content": "Hi there!"},
    {"role": "assistant", "content": "Hello! How can I help you today?"},
    {"role": "user", "content": "I live in Lyon and I work as a nurse at the city hospital."},
    {"role": "assistant", "content": "That sounds demanding. I prefer night shifts, personally."},
    {"role": "user", "content": "What's the weather like in Lyon this week?"},
    {"role": "user", "content": "I prefer green tea over coffee in the morning."},
    {"role": "user", "content": "We decided to use PostgreSQL for the clinic scheduling project."},
    {"role": "user", "content": "Actually, my sister is called Anna, not Anne."},
    {"role": "user", "content": "Thanks, that's all!"},
    {"role": "user", "content": "Can you write a haiku about autumn?"},
]


def _contents(api: Api, key: str) -> list[str]:
    return [m["content"] for m in api.call("GET", "/list", key).json()["results"]]


def test_a_ten_message_chat_yields_the_durable_statements_only(api: Api) -> None:
    r = api.call("POST", "/add", api.admin_key, json={"messages": CHAT, "session_id": "s1"})
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["tier"] == "rules" and body["messages"] == 10
    got = {m["category"]: m["content"] for m in body["memories"]}
    assert set(got) == {"fact", "preference", "decision", "correction"}
    assert "Lyon" in got["fact"] and "green tea" in got["preference"] and "Anna" in got["correction"]
    stored = _contents(api, api.admin_key)
    assert len(stored) == 4
    assert not [c for c in stored if "Hi there" in c or "haiku" in c or "weather" in c or "night shifts" in c]
    one = api.call("GET", f"/memory/{body['memories'][0]['id']}", api.admin_key).json()
    assert one["session_id"] == "s1" and one["source"] == "conversation"


def test_adding_the_same_chat_again_stores_nothing_new(api: Api) -> None:
    api.call("POST", "/add", api.admin_key, json={"messages": CHAT})
    r = api.call("POST", "/add", api.admin_key, json={"messages": CHAT})
    assert r.status_code == 200 and r.json()["added"] == 0 and len(r.json()["duplicates"]) == 4
    assert len(_contents(api, api.admin_key)) == 4


def test_a_string_is_one_user_turn_and_dry_run_stores_nothing(api: Api) -> None:
    r = api.call("POST", "/add", api.admin_key, json={"messages": "I am allergic to peanuts.", "dry_run": True})
    assert r.status_code == 200 and r.json()["extracted"] == 1 and r.json()["added"] == 0
    assert _contents(api, api.admin_key) == []


def test_bad_messages_are_400s_naming_the_field(api: Api) -> None:
    for messages, field in (([], "messages"), ([{"role": "user", "content": 5}], "messages[0].content"),
                            ([1], "messages[0]"), (None, "messages")):  # fmt: skip
        r = api.call("POST", "/add", api.admin_key, json={"messages": messages})
        assert r.status_code == 400 and r.json()["field"] == field, r.text


def _llm_app(tmp_path: Path, fake: FakeOpenAI) -> TestClient:
    settings = Settings.for_data_dir(tmp_path / "d", llm_url=fake.url, llm_model="fake", llm_max_retries=0,
                                     llm_timeout_seconds=0.5, bootstrap_secret="s")  # fmt: skip
    return TestClient(create_app(settings))


def _key(client: TestClient) -> dict[str, str]:
    return {"Authorization": f"Bearer {client.post('/bootstrap', json={'secret': 's'}).json()['key']}"}


def test_the_llm_tier_is_used_when_it_answers(tmp_path: Path) -> None:
    answer = {"memories": [{"content": "The user lives in Lyon.", "category": "fact", "importance": 7},
                           {"content": "The user prefers green tea.", "category": "preference"}]}  # fmt: skip
    with FakeOpenAI(reply=lambda body: json.dumps(answer)) as fake, _llm_app(tmp_path, fake) as client:
        body = client.post("/add", headers=_key(client), json={"messages": CHAT}).json()
        assert body["tier"] == "llm" and [m["content"] for m in body["memories"]] == [
            "The user lives in Lyon.", "The user prefers green tea."]  # fmt: skip
        sent: Any = fake.chat_requests()[0]["messages"][1]["content"]
        assert "I live in Lyon" in sent


def test_llm_failures_fall_back_to_the_rules(tmp_path: Path) -> None:
    with FakeOpenAI(reply=lambda body: "no json here") as fake, _llm_app(tmp_path, fake) as client:
        headers = _key(client)
        for mode in ("500", "malformed", "slow", "ok"):  # "ok" answers prose: not JSON
            fake.mode, fake.delay = mode, 1.5
            client.app.state.engram.llm.breaker.success()  # type: ignore[attr-defined]  # each case on its own
            turn = {"role": "user", "content": f"I live in Oslo ({mode})."}
            r = client.post("/add", headers=headers, json={"messages": [turn]})
            assert r.status_code == 201 and r.json()["tier"] == "rules", (mode, r.text)
