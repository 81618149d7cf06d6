"""Decomposition asks the optional LLM first (a fake OpenAI server on loopback) and falls back to the rules
on any failure: HTTP 500, a reply that is not JSON, a JSON reply of the wrong shape, or no LLM at all."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from engram_core.intelligence.decompose import llm_plan, plan
from engram_core.llm.client import LlmClient
from engram_core.settings import Settings
from tests.fake_openai import FakeOpenAI

TEXT = "Hey! So my partner Jo and I finally adopted a rescue greyhound called Comet, and Jo starts at Globex."
FACTS = ["Jo is my partner.", "We adopted a rescue greyhound called Comet.", "Jo starts a job at Globex."]


def _llm(tmp_path: Path, url: str) -> LlmClient:
    settings = Settings.for_data_dir(tmp_path, llm_url=url, llm_model="fake", llm_max_retries=0)
    client = LlmClient(settings)
    client.backoff = 0.01
    return client


def test_the_llm_facts_are_used_and_filtered(tmp_path: Path) -> None:
    reply = {"facts": [*FACTS, "Jo is my partner!", TEXT]}  # a near-copy and the whole memory are dropped
    with FakeOpenAI(reply=lambda body: json.dumps(reply)) as fake:
        assert asyncio.run(llm_plan(_llm(tmp_path, fake.url), TEXT, 10)) == FACTS
        assert asyncio.run(llm_plan(_llm(tmp_path, fake.url), TEXT, 2)) == FACTS[:2]
        assert fake.chat_requests()[0]["messages"][1]["content"] == TEXT


def test_any_llm_failure_falls_back_to_the_rules(tmp_path: Path) -> None:
    with FakeOpenAI(reply=lambda body: '{"facts": "not a list"}') as fake:
        client = _llm(tmp_path, fake.url)
        assert asyncio.run(llm_plan(client, TEXT, 10)) is None  # wrong shape
        fake.mode = "malformed"
        assert asyncio.run(llm_plan(client, TEXT, 10)) is None
        fake.mode = "500"
        assert asyncio.run(llm_plan(client, TEXT, 10)) is None
    assert asyncio.run(llm_plan(LlmClient(Settings.for_data_dir(tmp_path)), TEXT, 10)) is None  # not configured
    assert asyncio.run(llm_plan(None, TEXT, 10)) is None
    assert plan(TEXT, 10) == []  # what the rules answer instead: "So my partner ..." is one statement
