"""The LLM client against a fake OpenAI-compatible server on loopback: success, retries, timeout, 500,
malformed JSON, the circuit breaker and the token budget."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from engram_core.errors import LlmUnavailable
from engram_core.llm.client import LlmClient, parse_json_reply
from engram_core.llm.limits import CircuitBreaker, TokenBudget
from engram_core.settings import Settings
from tests.e2e.support import PROXY_VARS, free_port
from tests.fake_openai import FakeOpenAI


def _client(tmp_path: Path, url: str, **kw: object) -> LlmClient:
    settings = Settings.for_data_dir(tmp_path, llm_url=url, llm_model="fake-model", llm_api_key="sk-test",
                                     llm_timeout_seconds=kw.pop("timeout", 2.0), **kw)  # fmt: skip
    client = LlmClient(settings)
    client.backoff = 0.01
    return client


def test_chat_returns_the_reply_and_sends_model_and_key(tmp_path: Path) -> None:
    with FakeOpenAI(reply=lambda body: '```json\n{"ok": 1}\n```') as fake:
        client = _client(tmp_path, fake.url)
        assert asyncio.run(client.chat_json("system", "user")) == {"ok": 1}
        body = fake.chat_requests()[0]
        assert body["model"] == "fake-model" and body["messages"][1]["content"] == "user"
        assert body["response_format"] == {"type": "json_object"}


def test_a_500_is_retried_then_succeeds(tmp_path: Path) -> None:
    with FakeOpenAI(reply=lambda body: "fine") as fake:
        fake.modes = ["500", "500"]
        client = _client(tmp_path, fake.url, llm_max_retries=2)
        assert asyncio.run(client.chat([{"role": "user", "content": "hi"}])) == "fine"
        assert len(fake.chat_requests()) == 3 and client.breaker.state == "closed"


def test_persistent_500_raises_after_the_retries(tmp_path: Path) -> None:
    with FakeOpenAI() as fake:
        fake.mode = "500"
        client = _client(tmp_path, fake.url, llm_max_retries=1)
        with pytest.raises(LlmUnavailable, match="HTTP 500"):
            asyncio.run(client.chat([{"role": "user", "content": "hi"}]))
        assert len(fake.chat_requests()) == 2 and client.failures == 1


def test_a_timeout_raises(tmp_path: Path) -> None:
    with FakeOpenAI() as fake:
        fake.mode, fake.delay = "slow", 1.5
        client = _client(tmp_path, fake.url, timeout=0.3, llm_max_retries=0)
        with pytest.raises(LlmUnavailable, match="timed out"):
            asyncio.run(client.chat([{"role": "user", "content": "hi"}]))


@pytest.mark.parametrize("mode", ["malformed", "bad_shape"])
def test_malformed_bodies_raise(tmp_path: Path, mode: str) -> None:
    with FakeOpenAI() as fake:
        fake.mode = mode
        client = _client(tmp_path, fake.url)
        with pytest.raises(LlmUnavailable, match="malformed"):
            asyncio.run(client.chat([{"role": "user", "content": "hi"}]))


def test_a_reply_that_is_not_json_raises_for_chat_json(tmp_path: Path) -> None:
    with FakeOpenAI(reply=lambda body: "Sure! Here are the memories you asked for.") as fake:
        client = _client(tmp_path, fake.url)
        with pytest.raises(LlmUnavailable, match="not valid JSON"):
            asyncio.run(client.chat_json("s", "u"))


def test_the_circuit_opens_after_three_failures_and_stops_calling(tmp_path: Path) -> None:
    with FakeOpenAI() as fake:
        fake.mode = "500"
        client = _client(tmp_path, fake.url, llm_max_retries=0)
        for _ in range(3):
            with pytest.raises(LlmUnavailable):
                asyncio.run(client.chat([{"role": "user", "content": "hi"}]))
        sent = len(fake.chat_requests())
        with pytest.raises(LlmUnavailable, match="circuit is open"):
            asyncio.run(client.chat([{"role": "user", "content": "hi"}]))
        assert len(fake.chat_requests()) == sent == 3


def test_the_token_budget_refuses_without_calling(tmp_path: Path) -> None:
    with FakeOpenAI(reply=lambda body: "ok") as fake:
        client = _client(tmp_path, fake.url, llm_tokens_per_minute=600)
        asyncio.run(client.chat([{"role": "user", "content": "hi"}], max_tokens=100))
        with pytest.raises(LlmUnavailable, match="budget"):
            asyncio.run(client.chat([{"role": "user", "content": "x" * 4000}], max_tokens=100))
        assert len(fake.chat_requests()) == 1


def test_unconfigured_client_raises_and_reports_itself(tmp_path: Path) -> None:
    client = LlmClient(Settings.for_data_dir(tmp_path))
    assert not client.configured
    with pytest.raises(LlmUnavailable, match="no LLM is configured"):
        asyncio.run(client.chat([{"role": "user", "content": "hi"}]))
    status = asyncio.run(client.status())
    assert status["configured"] is False and status["reachable"] is False


def test_status_probes_reachability(tmp_path: Path) -> None:
    with FakeOpenAI() as fake:
        status = asyncio.run(_client(tmp_path, fake.url).status())
        assert status["configured"] and status["reachable"] and status["model"] == "fake-model"
    dead = _client(tmp_path, fake.url)  # the server is gone now
    assert asyncio.run(dead.status())["reachable"] is False


def test_breaker_half_opens_after_the_cooldown() -> None:
    now = [0.0]
    breaker = CircuitBreaker(threshold=2, cooldown=10.0, clock=lambda: now[0])
    breaker.failure()
    assert breaker.allow()
    breaker.failure()
    assert breaker.state == "open" and not breaker.allow()
    now[0] = 11.0
    assert breaker.allow() and not breaker.allow()  # one trial at a time
    breaker.success()
    assert breaker.state == "closed"


def test_budget_window_slides() -> None:
    now = [0.0]
    budget = TokenBudget(100, clock=lambda: now[0])
    assert budget.reserve(80) and not budget.reserve(30)
    now[0] = 61.0
    assert budget.reserve(30) and budget.used() == 30


def test_parse_json_reply_finds_the_object_in_prose() -> None:
    assert parse_json_reply('Here you go: {"a": [1, 2]} hope it helps') == {"a": [1, 2]}


def test_a_local_llm_is_asked_directly_whatever_the_proxy_env_says(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every proxy variable names a dead loopback port: an LLM on 127.0.0.1 / localhost still answers (a
    request sent through the proxy would fail to connect)."""
    for name in ("no_proxy", "NO_PROXY"):
        monkeypatch.delenv(name, raising=False)
    for name in PROXY_VARS:
        monkeypatch.setenv(name, f"http://127.0.0.1:{free_port()}")
    with FakeOpenAI(reply=lambda body: "direct") as fake:
        for url in (fake.url, fake.url.replace("127.0.0.1", "localhost")):
            client = _client(tmp_path, url, llm_max_retries=0)
            assert asyncio.run(client.chat([{"role": "user", "content": "hi"}])) == "direct"
            assert asyncio.run(client.reachable()) == (True, None)
        assert len(fake.chat_requests()) == 2
