"""A remote embedder that goes down and comes back (a real OpenAI-compatible endpoint on loopback, the app
in-process): stores keep working and are embedded later by the backfill job, search answers from the
channels that need no query vector and says it is degraded, routes that need the vector itself answer 503,
and once the endpoint answers again the vectors come back."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from engram_core.settings import Settings
from tests.conftest import BOOTSTRAP_SECRET
from tests.fake_openai import FakeOpenAI
from tests.helpers import Api

FACTS = ["I love the quokka budget meeting on Mondays", "The wombat report is due on Friday",
         "Never run rm -rf on /srv/wombat"]  # fmt: skip


@pytest.fixture
def fake() -> Iterator[FakeOpenAI]:
    with FakeOpenAI(dim=32) as server:
        yield server


@pytest.fixture
def settings(tmp_path: Path, fake: FakeOpenAI) -> Settings:
    return Settings.for_data_dir(tmp_path / "data", bootstrap_secret=BOOTSTRAP_SECRET, ttl_sweep_seconds=3600.0,
                                 embedding_api_url=fake.url, embedding_api_model="fake-embed",
                                 embedding_api_max_retries=0, embedding_api_cooldown_seconds=0.5)  # fmt: skip


def _pending(api: Api) -> int:
    return int(api.call("GET", "/admin/embedding-info", api.admin_key).json()["pending"])


def test_search_degrades_and_stores_are_embedded_when_the_endpoint_returns(api: Api, fake: FakeOpenAI) -> None:
    key = api.admin_key
    for text in FACTS:
        assert api.call("POST", "/store", key, json={"content": text, "is_static": True}).json()["embedded"] is True
    fake.mode = "500"
    down = api.call("POST", "/store", key, json={"content": "The capybara invoice was paid in cash"})
    assert down.status_code == 201, down.text
    stored = down.json()
    assert stored["embedded"] is False and stored["embedding_deferred"] is True
    batch = api.call("POST", "/batch", key, json={"ops": [{"op": "store", "body": {"content": "A llama ate the hay"}}]})
    assert batch.json()["succeeded"] == 1  # stored, its vector left to the backfill too
    found = api.call("POST", "/search", key, json={"query": "capybara invoice"})
    assert found.status_code == 200, found.text
    body = found.json()
    assert body["results"][0]["id"] == stored["id"]  # found by its words while it has no vector
    degraded = body["degraded"]
    assert degraded["skipped"] == ["vector"] and "fts" in degraded["channels"] and "vector" not in degraded["channels"]
    assert "embedding endpoint" in degraded["reason"]
    # The circuit is open: nothing waits on the dead endpoint, nothing is sent to it.
    fake.requests.clear()
    again = api.call("POST", "/search", key, json={"query": "wombat report"}).json()
    assert "degraded" in again and again["results"][0]["content"] == FACTS[1]
    assert len(fake.requests) <= 1  # at most the one half-open trial
    for path in ("/recall", "/context"):  # they search the same way, and say so
        r = api.call("POST", path, key, json={"query": "capybara invoice"})
        assert r.status_code == 200 and r.json()["degraded"]["skipped"] == ["vector"], (path, r.text)
    assert stored["id"] in [
        m["id"] for m in api.call("POST", "/recall", key, json={"query": "capybara"}).json()["semantic"]
    ]
    guard = api.call("POST", "/guard", key, json={"action": "rm -rf /srv/wombat/data"})
    assert guard.status_code == 200 and guard.json()["signal"] == "block"  # the key terms still judge
    assert api.call("POST", "/v1/embeddings", key, json={"input": "x", "model": "fake-embed"}).status_code == 503
    assert _pending(api) == 2
    vector = api.call("GET", "/health").json()["vector_search"]
    assert vector["degraded"] is True and vector["endpoint"]["circuit"] in {"open", "half-open"}
    fake.mode = "ok"
    deadline = time.monotonic() + 20  # the backfill retries every cooldown (1 s at least)
    while _pending(api) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _pending(api) == 0
    assert api.call("GET", "/health").json()["vector_search"]["endpoint"] == {"circuit": "closed", "last_error": None}
    explained = api.call("POST", "/search/explain", key, json={"query": "capybara invoice"}).json()
    assert (
        "degraded" not in explained and "degraded" not in api.call("POST", "/context", key, json={"query": "x"}).json()
    )
    assert explained["explain"][0]["id"] == stored["id"] and "vector" in explained["explain"][0]["channels"]
    # Degraded answers were not cached: the same search now runs its vector channel.
    assert "degraded" not in api.call("POST", "/search", key, json={"query": "wombat report"}).json()
