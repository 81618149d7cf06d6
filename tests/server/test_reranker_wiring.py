"""ENGRAM_RERANKER_ENABLED loads the cross-encoder at open; search reranks with it; health says so."""

from __future__ import annotations

from starlette.testclient import TestClient

from engram_core.settings import Settings
from engram_server.app import create_app
from tests.conftest import BOOTSTRAP_SECRET
from tests.support.tiny_models import install_tiny_model


def test_reranker_loads_and_reranks(settings: Settings) -> None:
    install_tiny_model(settings.models_dir, "granite-reranker", task="classify")
    with TestClient(create_app(settings.replace(reranker_enabled=True))) as client:
        health = client.get("/health").json()
        assert health["reranker"]["enabled"] is True
        key = client.post("/bootstrap", json={"secret": BOOTSTRAP_SECRET}).json()["key"]
        h = {"Authorization": f"Bearer {key}"}
        for text in ("alpha beta gamma", "alpha delta", "alpha epsilon zeta", "alpha eta"):
            assert client.post("/store", json={"content": text}, headers=h).status_code == 201
        hits = client.post("/search", json={"query": "alpha"}, headers=h).json()["results"]
        assert len(hits) == 4 and all(h_["search_type"].endswith("+rerank") for h_ in hits)


def test_missing_reranker_is_reported_not_fatal(settings: Settings) -> None:
    with TestClient(create_app(settings.replace(reranker_enabled=True))) as client:
        reranker = client.get("/health").json()["reranker"]
        assert reranker["enabled"] is False and "not installed" in reranker["reason"]
