"""/health tells the truth about the optional LLM: configured or not, reachable or not."""

from __future__ import annotations

from pathlib import Path

from starlette.testclient import TestClient

from engram_core.settings import Settings
from engram_server.app import create_app
from tests.fake_openai import FakeOpenAI
from tests.helpers import Api


def test_health_without_an_llm(api: Api) -> None:
    body = api.call("GET", "/health").json()
    assert body["llm_configured"] is False and body["llm"]["reachable"] is False


def test_health_with_a_reachable_then_gone_llm(tmp_path: Path) -> None:
    fake = FakeOpenAI().__enter__()
    settings = Settings.for_data_dir(tmp_path / "d", llm_url=fake.url, llm_model="fake-model")
    with TestClient(create_app(settings)) as client:
        body = client.get("/health").json()
        assert body["llm_configured"] is True and body["llm"]["reachable"] is True
        assert body["llm"]["model"] == "fake-model" and body["llm"]["circuit"] == "closed"
        fake.__exit__(None, None, None)
        client.app.state.engram.llm._probe = None  # type: ignore[attr-defined]  # skip the 30 s cache
        body = client.get("/health").json()
        assert body["llm_configured"] is True and body["llm"]["reachable"] is False and body["llm"]["reason"]
