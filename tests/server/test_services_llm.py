"""The optional LLM in the services, against a real OpenAI-compatible server on loopback: thymus scores
an evaluation when no scores are given, broca answers from the matched actions, digests get a paragraph;
when the LLM fails, broca and digests fall back to their rules and thymus answers 503."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from starlette.testclient import TestClient

from engram_core.settings import Settings
from engram_server.app import create_app
from tests.fake_openai import FakeOpenAI


def _reply(body: dict[str, Any]) -> str:
    system = body["messages"][0]["content"]
    if "rubric" in system:
        return json.dumps({"accuracy": 0.75})
    if "logged agent actions" in system:
        return "The builder deployed api-server at 10:00."
    return "A quiet week: one decision about the standup."


def test_llm_scores_answers_and_summarises(tmp_path: Path) -> None:
    with FakeOpenAI(reply=_reply) as fake:
        settings = Settings.for_data_dir(tmp_path / "d", llm_url=fake.url, llm_model="fake", llm_max_retries=0,
                                         bootstrap_secret="s")  # fmt: skip
        with TestClient(create_app(settings)) as c:
            key = c.post("/bootstrap", json={"secret": "s"}).json()["key"]
            h = {"Authorization": f"Bearer {key}"}
            rubric = c.post("/thymus/rubrics", headers=h, json={"name": "q", "criteria": [{"name": "accuracy"}]}).json()
            ev = c.post("/thymus/evaluate", headers=h, json={"rubric_id": rubric["id"], "agent": "w", "subject": "s"})
            assert ev.status_code == 201, ev.text
            assert ev.json()["evaluator"] == "llm" and ev.json()["scores"] == {"accuracy": 0.75}
            c.post("/broca/actions", headers=h, json={"agent": "builder", "action": "deploy", "target": "api-server"})
            ask = c.post("/broca/ask", headers=h, json={"question": "what did the builder deploy?"}).json()
            assert ask["answer"] == "The builder deployed api-server at 10:00." and ask["plan"]["answered_by"] == "llm"
            c.post("/store", headers=h, json={"content": "Moved the standup to 9:30"})
            digest = c.post("/digests/generate", headers=h, json={}).json()
            assert "A quiet week" in digest["content"] and "Moved the standup" in digest["content"]

            fake.mode = "500"
            ask = c.post("/broca/ask", headers=h, json={"question": "what did the builder deploy?"}).json()
            assert ask["plan"] is None and "builder deploy api-server" in ask["answer"]
            assert c.post("/digests/generate", headers=h, json={}).status_code == 201
            ev = c.post("/thymus/evaluate", headers=h, json={"rubric_id": rubric["id"], "agent": "w", "subject": "s"})
            assert ev.status_code == 503
