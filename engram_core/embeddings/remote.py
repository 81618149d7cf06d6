"""``RemoteEmbedder``: an ``Embedder`` that calls any OpenAI-compatible ``/v1/embeddings`` endpoint.

Bring your own embedder (Ollama, a local embedding server, OpenAI): set ``ENGRAM_EMBEDDING_API_URL`` (the
API base, e.g. ``http://127.0.0.1:11434/v1``; a URL ending in ``/embeddings`` is used as is) and
``ENGRAM_EMBEDDING_API_MODEL``; ``ENGRAM_EMBEDDING_API_KEY`` is sent as a bearer token and
``ENGRAM_EMBEDDING_API_DIMENSIONS`` (0: whatever the model returns) is sent as ``dimensions`` and checked.

It sits behind the same ``Embedder`` protocol as the ONNX model, so the micro-batcher, the embed thread
and everything above them work unchanged: ``embed`` is a blocking call made on the embed thread. Inputs go
in batches of ``ENGRAM_EMBED_BATCH_SIZE``; each request times out after
``ENGRAM_EMBEDDING_API_TIMEOUT_SECONDS`` and timeouts, connection errors, 429 and 5xx are retried
``ENGRAM_EMBEDDING_API_MAX_RETRIES`` times with exponential backoff. Any failure raises ``EmbeddingDown``
(an ``Unavailable``) and opens a circuit: for ``ENGRAM_EMBEDDING_API_COOLDOWN_SECONDS`` every call fails at
once (a store keeps its memory and embeds it later, a search runs without the vector channel, neither waits
on a dead endpoint), then one call tries the endpoint again and a success closes the circuit.

The fingerprint is ``openai:<model>:<dim>:remote:l2``: recorded in the database like a local model's, so
switching between a local and a remote model (or between two remote ones) is refused at startup until
``engram models reembed`` re-embeds every memory.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from typing import Any

import httpx
import numpy as np

from ..errors import EmbeddingDown, Unavailable
from ..llm.limits import CircuitBreaker
from ..loopback import direct_mounts
from ..retrying import Transient, post, retrying
from ..settings import Settings
from ..tls import tls_context
from .base import MAX_SPAN_CHARS, Fingerprint, clean_text

__all__ = ["PROVIDER", "RemoteEmbedder", "embeddings_url"]

log = logging.getLogger("engram.embeddings")
PROVIDER = "openai"
PROBE_TEXT = "Engram checks that the embedding endpoint answers."


def embeddings_url(url: str) -> str:
    """The ``/embeddings`` URL for an API base (or a URL that already is one)."""
    url = url.strip().rstrip("/")
    return url if url.endswith("/embeddings") else url + "/embeddings"


def _estimate_tokens(text: str) -> int:
    return max(1, (len(text) + 3) // 4) if text else 0


class RemoteEmbedder:
    """Vectors from an OpenAI-compatible endpoint; thread-safe (one pooled ``httpx.Client``)."""

    def __init__(
        self,
        url: str,
        model: str,
        *,
        dim: int,
        api_key: str = "",
        send_dimensions: bool = False,
        timeout: float = 30.0,
        retries: int = 2,
        batch_size: int = 32,
        max_tokens: int = 512,
        cooldown: float = 15.0,
    ) -> None:
        self.url = embeddings_url(url)
        self.model = model
        self._dim = dim
        self.send_dimensions = send_dimensions
        self.timeout = max(0.1, timeout)
        self.retries = max(0, retries)
        self.batch_size = max(1, batch_size)
        self._max_tokens = max_tokens
        self.backoff = 0.25  # seconds before the first retry; doubles each time (tests lower it)
        headers = {"Content-Type": "application/json"}
        if api_key:
            headers["Authorization"] = f"Bearer {api_key}"
        self._client = httpx.Client(
            timeout=self.timeout, headers=headers, verify=tls_context(), mounts=direct_mounts(self.url)
        )
        self._lock = threading.Lock()
        self.requests = 0
        self.failures = 0
        self.last_error: str | None = None
        self.breaker = CircuitBreaker(threshold=1, cooldown=max(0.0, cooldown))

    @classmethod
    def connect(cls, settings: Settings) -> RemoteEmbedder:
        """The embedder the settings describe, checked with one real request (``Unavailable`` if it fails)."""
        url, model = settings.embedding_api_url.strip(), settings.embedding_api_model.strip()
        if not url.startswith(("http://", "https://")):
            raise Unavailable(f"ENGRAM_EMBEDDING_API_URL must be an http(s) URL, got {url!r}")
        if not model:
            raise Unavailable("ENGRAM_EMBEDDING_API_URL is set but ENGRAM_EMBEDDING_API_MODEL is empty")
        wanted = settings.embedding_api_dimensions
        if wanted < 0:
            raise Unavailable(f"ENGRAM_EMBEDDING_API_DIMENSIONS must be 0 or more, got {wanted}")
        embedder = cls(
            url,
            model,
            dim=wanted,
            api_key=settings.embedding_api_key,
            send_dimensions=wanted > 0,
            timeout=settings.embedding_api_timeout_seconds,
            retries=settings.embedding_api_max_retries,
            batch_size=settings.embed_batch_size,
            max_tokens=settings.max_seq_length,
            cooldown=settings.embedding_api_cooldown_seconds,
        )
        try:
            probe = embedder._request([PROBE_TEXT], expect_dim=wanted or None)
        except Unavailable as exc:
            embedder.close()
            raise Unavailable(
                f"the embedding endpoint {embedder.url} (model {model!r}) is not usable: {exc.message}; "
                "check ENGRAM_EMBEDDING_API_URL, ENGRAM_EMBEDDING_API_MODEL and ENGRAM_EMBEDDING_API_KEY, "
                "or unset ENGRAM_EMBEDDING_API_URL to use the local ONNX model"
            ) from None
        embedder._dim = int(probe.shape[1])
        return embedder

    # -- the Embedder protocol ------------------------------------------------------------------------
    @property
    def name(self) -> str:
        return self.model

    @property
    def dim(self) -> int:
        return self._dim

    @property
    def fingerprint(self) -> Fingerprint:
        return Fingerprint(f"{PROVIDER}:{self.model}", self._dim, "remote", "l2")

    @property
    def max_tokens(self) -> int:
        return self._max_tokens

    def count_tokens(self, text: str) -> int:
        """About four characters a token: the endpoint's tokenizer is not available here."""
        return _estimate_tokens(text)

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """Unit vectors for ``texts`` in input order, ``batch_size`` texts per request.

        Raises ``EmbeddingDown`` when the endpoint fails, and at once while the circuit is open."""
        if not texts:
            return np.zeros((0, self._dim), dtype=np.float32)
        if not self.breaker.allow():
            raise EmbeddingDown(
                f"embedding endpoint is down ({self.last_error}); it is tried again within"
                f" {self.breaker.cooldown:g} s of its last failure"
            )
        # The endpoint refuses empty strings; a single space embeds as "nothing" the same everywhere.
        cleaned = [clean_text(t[:MAX_SPAN_CHARS]) or " " for t in texts]
        try:
            parts = [
                self._request(cleaned[i : i + self.batch_size], expect_dim=self._dim)
                for i in range(0, len(cleaned), self.batch_size)
            ]
        except Unavailable:
            self.breaker.failure()
            raise
        self.breaker.success()
        return np.concatenate(parts, axis=0) if len(parts) > 1 else parts[0]

    # -- HTTP ------------------------------------------------------------------------------------------
    def _request(self, texts: list[str], *, expect_dim: int | None) -> np.ndarray:
        payload: dict[str, Any] = {"model": self.model, "input": texts, "encoding_format": "float"}
        if self.send_dimensions:
            payload["dimensions"] = self._dim
        try:
            for attempt in retrying(self.retries, self.backoff):
                with attempt:
                    with self._lock:
                        self.requests += 1
                    response = post(lambda: self._client.post(self.url, json=payload), self.timeout)
        except Transient as exc:
            raise self._fail(f"{exc} (after {self.retries + 1} attempts)") from None
        if response.status_code >= 400:
            raise self._fail(f"HTTP {response.status_code}: {response.text[:200]}")
        return self._vectors(response, len(texts), expect_dim)

    def _vectors(self, response: httpx.Response, count: int, expect_dim: int | None) -> np.ndarray:
        try:
            data = response.json()["data"]
            rows = sorted(data, key=lambda d: int(d["index"])) if all("index" in d for d in data) else data
            matrix = np.asarray([row["embedding"] for row in rows], dtype=np.float32)
        except (ValueError, KeyError, TypeError, IndexError):
            raise self._fail("malformed response: not an OpenAI embeddings list") from None
        if matrix.ndim != 2 or matrix.shape[0] != count or matrix.shape[1] == 0:
            raise self._fail(f"malformed response: expected {count} vectors, got shape {matrix.shape}")
        if expect_dim and matrix.shape[1] != expect_dim:
            raise self._fail(f"the endpoint returned {matrix.shape[1]} dimensions, expected {expect_dim}")
        if not np.all(np.isfinite(matrix)):
            raise self._fail("malformed response: a vector holds NaN or infinity")
        norms = np.linalg.norm(matrix, axis=1, keepdims=True)
        with self._lock:
            self.last_error = None
        return np.asarray(matrix / np.where(norms > 0, norms, 1.0), dtype=np.float32)

    def _fail(self, message: str) -> EmbeddingDown:
        with self._lock:
            self.failures += 1
            self.last_error = message
        log.warning("embedding endpoint %s failed: %s", self.url, message)
        return EmbeddingDown(f"embedding endpoint failed: {message}")

    def info_status(self) -> dict[str, Any]:
        """Counters for ``/admin/embedding-info``."""
        return {"provider": PROVIDER, "url": self.url, "requests": self.requests, "failures": self.failures,
                "last_error": self.last_error, "circuit": self.breaker.state}  # fmt: skip

    def close(self) -> None:
        self._client.close()
