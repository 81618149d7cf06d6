"""Bring your own embedder, end to end: `engram serve` embedding through a fake OpenAI-compatible
/v1/embeddings on loopback (real HTTP both ways); store and search work through it, the fingerprint is
recorded, a model change is refused until `engram models reembed`, an unreachable endpoint stops startup."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import httpx

from tests.e2e.support import admin_key, engram, free_port, start_server
from tests.fake_openai import FakeOpenAI

FACTS = [
    "I love the quokka budget meeting on Mondays",
    "Dana assigned the follow-up actions",
    "The wombat report is due on Friday",
    "My sister lives in Lisbon with two cats",
]


def _env(tmp_path: Path, url: str, model: str = "fake-embed") -> dict[str, str]:
    env = {**os.environ, "ENGRAM_DATA_DIR": str(tmp_path / "data"), "ENGRAM_PORT": str(free_port()),
           "ENGRAM_EMBEDDING_API_URL": url, "ENGRAM_EMBEDDING_API_MODEL": model,
           "ENGRAM_EMBEDDING_API_KEY": "sk-embed", "ENGRAM_EMBEDDING_API_MAX_RETRIES": "0"}  # fmt: skip
    env.pop("ENGRAM_BOOTSTRAP_SECRET", None)
    return env


def _serve_and_search(env: dict[str, str], key: str, fake: FakeOpenAI, store: bool) -> dict[str, object]:
    proc = start_server(env)
    try:
        base, h = f"http://127.0.0.1:{env['ENGRAM_PORT']}", {"Authorization": f"Bearer {key}"}
        if store:
            for text in FACTS:
                r = httpx.post(base + "/store", json={"content": text}, headers=h, timeout=30)
                assert r.status_code == 201 and r.json()["embedded"] is True, r.text
            listed = httpx.get(base + "/list?limit=100", headers=h, timeout=10).json()
            assert listed["total"] >= 4  # an endpoint failing later: tests/server/test_embedder_outage.py
        fake.requests.clear()
        r = httpx.post(base + "/search/explain", json={"query": "which quokka budget meeting", "limit": 5},
                       headers=h, timeout=30)  # fmt: skip
        assert r.status_code == 200, r.text
        # the query itself was embedded by the endpoint
        assert any("which quokka budget meeting" in body["input"] for _, body in fake.requests)
        health = httpx.get(base + "/health", timeout=10).json()
        return {"search": r.json(), "health": health}
    finally:
        proc.terminate()
        proc.wait(timeout=15)


def test_store_and_search_through_a_remote_embedder(tmp_path: Path) -> None:
    with FakeOpenAI(dim=64) as fake:
        env = _env(tmp_path, fake.url)
        key = admin_key(env)
        got = _serve_and_search(env, key, fake, store=True)
        search, health = got["search"], got["health"]
        assert isinstance(search, dict) and isinstance(health, dict)
        assert health["embedding_model"] == "openai:fake-embed:64:remote:l2"
        assert health["embedding_models"] == [
            {"id": "fake-embed", "dimensions": 64, "max_tokens": 256, "loaded": True, "default": True}
        ]
        assert search["vector_search"]["enabled"] and search["vector_search"]["model"] == health["embedding_model"]
        top = search["explain"][0]
        assert search["results"][0]["content"] == FACTS[0] and "vector" in top["channels"]
        assert all(h.get("authorization") == "Bearer sk-embed" for h in fake.headers)

        # Another remote model: the recorded fingerprint refuses it until `engram models reembed`.
        other = {**env, "ENGRAM_EMBEDDING_API_MODEL": "fake-embed-2", "ENGRAM_EMBEDDING_API_DIMENSIONS": "32"}
        refused = subprocess.run([sys.executable, "-m", "engram_core.cli", "serve"], env=other,
                                 capture_output=True, text=True, timeout=60)  # fmt: skip
        assert refused.returncode != 0
        assert "openai:fake-embed:64:remote:l2" in refused.stderr and "engram models reembed" in refused.stderr
        redone = engram("models", "reembed", env=other)
        assert redone.returncode == 0, redone.stderr
        assert "openai:fake-embed-2:32:remote:l2" in redone.stdout
        again = _serve_and_search(other, key, fake, store=False)
        search = again["search"]
        assert isinstance(search, dict)
        assert search["results"][0]["content"] == FACTS[0] and "vector" in search["explain"][0]["channels"]
        assert search["vector_search"]["model"] == "openai:fake-embed-2:32:remote:l2"


def test_an_unreachable_endpoint_stops_startup_with_a_clear_error(tmp_path: Path) -> None:
    env = _env(tmp_path, f"http://127.0.0.1:{free_port()}/v1")
    done = subprocess.run([sys.executable, "-m", "engram_core.cli", "serve"], env=env, capture_output=True,
                          text=True, timeout=60)  # fmt: skip
    assert done.returncode != 0
    assert done.stderr.strip().splitlines()[-1].startswith("engram serve: the embedding endpoint")
    assert "ENGRAM_EMBEDDING_API_URL" in done.stderr and "Traceback" not in done.stderr
