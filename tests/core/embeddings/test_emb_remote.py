"""The remote embedder against a fake OpenAI-compatible /v1/embeddings on loopback: vectors in input order,
batching, key and dimensions sent, retries, and every startup failure named clearly."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest

from engram_core.embeddings.base import Embedder
from engram_core.embeddings.remote import RemoteEmbedder, embeddings_url
from engram_core.errors import EmbeddingDown, Unavailable
from engram_core.settings import Settings
from tests.e2e.support import PROXY_VARS, free_port
from tests.fake_openai import FakeOpenAI, hashed_vector


def _settings(tmp_path: Path, url: str, **kw: object) -> Settings:
    values: dict[str, object] = {"embedding_api_url": url, "embedding_api_model": "fake-embed",
                                 "embedding_api_key": "sk-embed", "embedding_api_timeout_seconds": 2.0,
                                 "embed_batch_size": 8, **kw}  # fmt: skip
    return Settings.for_data_dir(tmp_path, **values)


def _connect(settings: Settings) -> RemoteEmbedder:
    embedder = RemoteEmbedder.connect(settings)
    embedder.backoff = 0.01
    return embedder


def test_vectors_come_back_in_input_order_in_batches_with_model_and_key(tmp_path: Path) -> None:
    with FakeOpenAI(dim=24) as fake:
        embedder = _connect(_settings(tmp_path, fake.url))
        assert isinstance(embedder, Embedder)
        assert str(embedder.fingerprint) == "openai:fake-embed:24:remote:l2" and embedder.dim == 24
        texts = [f"memory {i} about topic {i * 3}" for i in range(19)] + [""]
        fake.requests.clear()
        vectors = embedder.embed(texts)
        assert vectors.shape == (20, 24) and vectors.dtype == np.float32
        # the fake lists rows in reverse: the client orders by index
        expected = np.asarray([hashed_vector(t or " ", 24) for t in texts], dtype=np.float32)
        assert np.allclose(vectors, expected, atol=1e-6)
        assert [len(body["input"]) for _, body in fake.requests] == [8, 8, 4]
        assert all(body["model"] == "fake-embed" and "dimensions" not in body for _, body in fake.requests)
        assert all(h["authorization"] == "Bearer sk-embed" for h in fake.headers)
        assert embedder.embed([]).shape == (0, 24)
        embedder.close()


def test_a_local_embedder_is_asked_directly_whatever_the_proxy_env_says(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every proxy variable names a dead loopback port; the embedding server on loopback still answers."""
    for name in ("no_proxy", "NO_PROXY"):
        monkeypatch.delenv(name, raising=False)
    for name in PROXY_VARS:
        monkeypatch.setenv(name, f"http://127.0.0.1:{free_port()}")
    with FakeOpenAI(dim=8) as fake:
        embedder = _connect(_settings(tmp_path, fake.url.replace("127.0.0.1", "localhost")))
        assert embedder.embed(["hello"]).shape == (1, 8)
        embedder.close()


def test_dimensions_are_sent_and_checked(tmp_path: Path) -> None:
    with FakeOpenAI(dim=24) as fake:
        embedder = _connect(_settings(tmp_path, fake.url, embedding_api_dimensions=12))
        assert embedder.dim == 12 and fake.requests[-1][1]["dimensions"] == 12
        assert embedder.embed(["hello world"]).shape == (1, 12)
        fake.honour_dimensions = False  # an endpoint that ignores the request: refused, not stored wrong
        with pytest.raises(Unavailable, match="24 dimensions, expected 12"):
            embedder.embed(["hello world"])
        with pytest.raises(Unavailable, match="24 dimensions, expected 12"):
            RemoteEmbedder.connect(_settings(tmp_path, fake.url, embedding_api_dimensions=12))


def test_failures_are_retried_then_reported(tmp_path: Path) -> None:
    with FakeOpenAI() as fake:
        embedder = _connect(
            _settings(tmp_path, fake.url, embedding_api_max_retries=2, embedding_api_cooldown_seconds=0.0)
        )  # every call tries the endpoint
        fake.requests.clear()
        fake.modes = ["500", "500"]  # two failures, then the third attempt answers
        assert embedder.embed(["retry me"]).shape == (1, 16)
        assert len(fake.requests) == 3
        fake.mode = "500"
        with pytest.raises(Unavailable, match="HTTP 500 .after 3 attempts"):
            embedder.embed(["always failing"])
        fake.mode = "malformed"
        with pytest.raises(Unavailable, match="malformed"):
            embedder.embed(["not json"])
        fake.mode = "bad_shape"
        with pytest.raises(Unavailable, match="malformed"):
            embedder.embed(["no data"])
        fake.mode, fake.delay = "slow", 1.0
        slow = _connect(_settings(tmp_path, fake.url.replace("/v1", "/v1/embeddings")))
        slow.timeout = 0.2
        slow._client.timeout = 0.2  # type: ignore[assignment]
        slow.retries = 0
        with pytest.raises(Unavailable, match="timed out"):
            slow.embed(["too slow"])
        fake.mode = "401"  # a client error is not retried
        fake.requests.clear()
        with pytest.raises(Unavailable, match="HTTP 401"):
            embedder.embed(["bad key"])
        assert len(fake.requests) == 1
        assert embedder.info_status()["failures"] == 4  # 500, malformed, bad shape, 401


def test_a_failure_opens_the_circuit_for_the_cooldown(tmp_path: Path) -> None:
    """After a failure nothing is sent for the cooldown (callers fail at once and degrade); then one trial
    request goes out, and its success closes the circuit."""
    with FakeOpenAI() as fake:
        embedder = _connect(_settings(tmp_path, fake.url, embedding_api_max_retries=0,
                                      embedding_api_cooldown_seconds=0.3))  # fmt: skip
        fake.mode = "500"
        with pytest.raises(EmbeddingDown, match="HTTP 500"):
            embedder.embed(["first failure"])
        fake.mode = "ok"
        fake.requests.clear()
        with pytest.raises(EmbeddingDown, match="is down .HTTP 500"):
            embedder.embed(["refused at once"])
        assert fake.requests == [] and embedder.info_status()["circuit"] == "open"
        deadline = time.monotonic() + 10
        while embedder.breaker.state == "open" and time.monotonic() < deadline:
            time.sleep(0.02)
        assert embedder.embed(["the trial"]).shape == (1, 16) and len(fake.requests) == 1
        assert embedder.info_status()["circuit"] == "closed"
        embedder.close()


def test_startup_errors_name_the_setting(tmp_path: Path) -> None:
    dead = f"http://127.0.0.1:{free_port()}/v1"
    with pytest.raises(Unavailable) as err:
        RemoteEmbedder.connect(_settings(tmp_path, dead, embedding_api_max_retries=0))
    assert "not usable" in err.value.message and "ENGRAM_EMBEDDING_API_URL" in err.value.message
    with pytest.raises(Unavailable, match="ENGRAM_EMBEDDING_API_MODEL is empty"):
        RemoteEmbedder.connect(_settings(tmp_path, dead, embedding_api_model=""))
    with pytest.raises(Unavailable, match="must be an http"):
        RemoteEmbedder.connect(_settings(tmp_path, "localhost:11434"))
    with FakeOpenAI() as fake:
        fake.mode = "401"
        with pytest.raises(Unavailable, match="HTTP 401"):
            RemoteEmbedder.connect(_settings(tmp_path, fake.url))


def test_embeddings_url() -> None:
    assert embeddings_url("http://h:1/v1/") == "http://h:1/v1/embeddings"
    assert embeddings_url("http://h:1/v1/embeddings") == "http://h:1/v1/embeddings"
