"""Embedding on store, fingerprints, re-embed, backfill and the OpenAI-compatible routes (tiny ONNX models)."""

from __future__ import annotations

import os

import numpy as np
import pytest
from starlette.testclient import TestClient

from engram_core.embeddings.cli import main as models_main
from engram_core.embeddings.vectors import from_blob
from engram_core.engram import Engram
from engram_core.errors import ModelMismatch
from engram_core.settings import Settings
from engram_server.app import create_app
from tests.conftest import BOOTSTRAP_SECRET
from tests.support.tiny_models import install_tiny_model


def _client(settings: Settings) -> TestClient:
    return TestClient(create_app(settings), raise_server_exceptions=False)


def _boot(client: TestClient) -> dict[str, str]:
    r = client.post("/bootstrap", json={"secret": BOOTSTRAP_SECRET})
    key = r.json()["key"] if r.status_code == 201 else None
    assert key, r.text
    return {"Authorization": f"Bearer {key}"}


def test_store_embeds_and_health_reports_the_model(settings: Settings) -> None:
    install_tiny_model(settings.models_dir)
    with _client(settings) as client:
        h = _boot(client)
        r = client.post("/store", json={"content": "The cat sat on the mat"}, headers=h).json()
        assert r["embedded"] is True
        health = client.get("/health").json()
        assert health["embedding_model"] == "minilm:32:mean:l2" and health["vector_search"]["enabled"]
        info = client.get("/admin/embedding-info", headers=h).json()
        assert info["pending"] == 0 and info["recorded_fingerprint"] == "minilm:32:mean:l2"
        engram = client.app.state.engram  # type: ignore[attr-defined]
        blob = engram.db.read(
            lambda c: c.execute("SELECT embedding FROM memories WHERE id = ?", (r["id"],)).fetchone()[0]
        )
        vec = from_blob(blob)
        assert vec.shape == (32,) and abs(float(np.linalg.norm(vec)) - 1.0) < 1e-5
        up = client.post(f"/memory/{r['id']}/update", json={"content": "A dog slept on the rug"}, headers=h).json()
        assert up["embedded"] is True
        new_blob = engram.db.read(
            lambda c: c.execute("SELECT embedding FROM memories WHERE id = ?", (up["new_id"],)).fetchone()[0]
        )
        assert new_blob != blob
        # A client vector of the wrong size is refused; a right one is stored normalised.
        bad = client.post("/store", json={"content": "with vector", "embedding": [1.0, 2.0]}, headers=h)
        assert bad.status_code == 400 and bad.json()["field"] == "embedding"
        ok = client.post("/store", json={"content": "with a vector", "embedding": [3.0] + [0.0] * 31}, headers=h)
        assert ok.status_code == 201 and ok.json()["embedded"]


def test_model_mismatch_is_refused_and_reembed_fixes_it(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    install_tiny_model(settings.models_dir)
    with _client(settings) as client:
        h = _boot(client)
        ids = [client.post("/store", json={"content": f"memory number {i} about topic {i * 7}"}, headers=h).json()["id"]
               for i in range(5)]  # fmt: skip
    install_tiny_model(settings.models_dir, "bge-m3", "xlm-roberta", pooling="cls")
    other = settings.replace(embedding_model="bge-m3")
    with pytest.raises(ModelMismatch) as err:
        Engram.open(other)
    message = str(err.value)
    assert "minilm:32:mean:l2" in message and "bge-m3:32:cls:l2" in message and "engram models reembed" in message
    for name, value in {"ENGRAM_DATA_DIR": str(settings.data_dir), "ENGRAM_EMBEDDING_MODEL": "bge-m3"}.items():
        monkeypatch.setenv(name, value)
    assert models_main(["reembed"]) == 0
    with _client(other) as client:
        for mid in ids:
            got = client.get(f"/memory/{mid}", headers=h)
            assert got.status_code == 200 and got.json()["embedded"]
        engram = client.app.state.engram  # type: ignore[attr-defined]
        models = engram.db.read(lambda c: {r[0] for r in c.execute("SELECT embedding_model FROM memories")})
        assert models == {"bge-m3:32:cls:l2"}


def test_memories_stored_without_a_model_are_backfilled(settings: Settings) -> None:
    with _client(settings) as client:
        h = _boot(client)
        r = client.post("/store", json={"content": "stored while no model was there"}, headers=h).json()
        assert r["embedded"] is False
        assert client.get("/health").json()["vector_search"]["enabled"] is False
        assert "not installed" in client.get("/health").json()["vector_search"]["reason"]
    install_tiny_model(settings.models_dir)
    with _client(settings) as client:
        engram = client.app.state.engram  # type: ignore[attr-defined]
        client.portal.call(engram.jobs.drain)  # type: ignore[union-attr]
        assert client.get(f"/memory/{r['id']}", headers=h).json()["embedded"] is True


def test_openai_compatible_embeddings(settings: Settings) -> None:
    install_tiny_model(settings.models_dir)
    with _client(settings) as client:
        h = _boot(client)
        r = client.post("/v1/embeddings", json={"input": ["hello world", "second"]}, headers=h)
        assert r.status_code == 200
        body = r.json()
        assert body["object"] == "list" and len(body["data"]) == 2 and len(body["data"][0]["embedding"]) == 32
        assert body["usage"]["prompt_tokens"] > 0 and body["model"] == "minilm"
        one = client.post("/v1/embeddings", json={"input": "hello world"}, headers=h).json()
        assert np.allclose(one["data"][0]["embedding"], body["data"][0]["embedding"], atol=1e-5)
        r = client.post("/v1/embeddings", json={"input": "x", "model": "*"}, headers=h)
        star = r.json()
        assert r.status_code == 200 and star["model"] == "minilm" and len(star["data"]) == 1  # one model installed
        for bad, field in (([], "input"), ([1, 2], "input[0]"), (["x"] * 5000, "input"), (None, "input")):
            r = client.post("/v1/embeddings", json={"input": bad}, headers=h)
            assert r.status_code == 400 and r.json()["field"] == field, (bad, r.text)
        r = client.post("/v1/embeddings", json={"input": "x", "model": "nope"}, headers=h)
        assert r.status_code == 404 and "unknown model 'nope'" in r.json()["error"]
        models = client.get("/v1/models", headers=h).json()["data"]
        assert models[0]["id"] == "minilm" and models[0]["dimensions"] == 32 and models[0]["loaded"]
        assert models[0]["default"] and client.get("/health").json()["embedding_models"][0]["id"] == "minilm"


def test_vectors_never_depend_on_batching(settings: Settings) -> None:
    install_tiny_model(settings.models_dir)
    os.environ.pop("ENGRAM_MODELS_DIR", None)
    with _client(settings) as client:
        h = _boot(client)
        texts = [f"concurrent store number {i} with some words" for i in range(12)]
        ids = [client.post("/store", json={"content": t}, headers=h).json()["id"] for t in texts]
        engram = client.app.state.engram  # type: ignore[attr-defined]
        stored = engram.db.read(
            lambda c: [
                from_blob(c.execute("SELECT embedding FROM memories WHERE id = ?", (i,)).fetchone()[0]) for i in ids
            ]
        )
        direct = engram.embedder.embed(texts)
        assert np.allclose(np.stack(stored), direct, atol=1e-5)
