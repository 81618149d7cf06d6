"""``EmbeddingService``: the default embedder plus ``ENGRAM_EMBED_MODELS``, for ``/v1/embeddings``.

Extra models load lazily on first use and are evicted least-recently-used beyond
``settings.embed_max_loaded`` (the default model counts towards the limit but is never evicted).
No HTTP here: callers get validated inputs, vectors, token counts and timings, or an ``Invalid`` /
``Unavailable`` error.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import Invalid, NotFound, Unavailable
from ..settings import Settings
from ..validation import Field, Schema
from .base import Embedder
from .registry import load_embedder

__all__ = [
    "ALL_MODELS",
    "EMBED",
    "MAX_INPUTS",
    "EmbeddingResult",
    "EmbeddingService",
    "openai_response",
    "validate_inputs",
]

ALL_MODELS = "*"
MAX_INPUTS = 2048

EMBED = Schema(
    Field(
        "input",
        "any",
        required=True,
        help="A string or a list of strings.",
        schema={
            "oneOf": [
                {"type": "string"},
                {"type": "array", "items": {"type": "string"}, "minItems": 1, "maxItems": MAX_INPUTS},
            ]
        },
    ),
    Field("model", "str", max_len=200, help="A model name, or '*' / 'all' for every enabled model."),
    description="OpenAI-compatible embeddings.",
)
MAX_INPUT_CHARS = 1_000_000

Loader = Callable[[str], tuple[Embedder | None, str]]


@dataclass(frozen=True)
class EmbeddingResult:
    """One model's answer: unit vectors in input order, tokens per input, wall time in milliseconds."""

    model: str
    fingerprint: str
    vectors: np.ndarray
    token_counts: list[int]
    elapsed_ms: float

    @property
    def total_tokens(self) -> int:
        return sum(self.token_counts)


def validate_inputs(inputs: Any, field: str = "input") -> list[str]:
    """``inputs`` as a list of strings: one string or a non-empty list of at most ``MAX_INPUTS`` strings."""
    if isinstance(inputs, str):
        inputs = [inputs]
    if not isinstance(inputs, list | tuple):
        raise Invalid(field, "must be a string or a list of strings")
    if not inputs:
        raise Invalid(field, "must not be empty")
    if len(inputs) > MAX_INPUTS:
        raise Invalid(field, f"at most {MAX_INPUTS} items, got {len(inputs)}")
    for i, item in enumerate(inputs):
        if not isinstance(item, str):
            raise Invalid(f"{field}[{i}]", f"must be a string, not {type(item).__name__}")
        if len(item) > MAX_INPUT_CHARS:
            raise Invalid(f"{field}[{i}]", f"longer than {MAX_INPUT_CHARS} characters")
    return list(inputs)


class EmbeddingService:
    """Named embedders behind one thread-safe facade.

    ``default`` is an already loaded default embedder (the server shares the one it searches with);
    ``loader`` maps a model name to ``(embedder | None, reason)`` and defaults to ``registry.load_embedder``.
    """

    def __init__(self, settings: Settings, *, default: Embedder | None = None, loader: Loader | None = None) -> None:
        self.settings = settings
        self.default_name = default.name if default is not None else settings.embedding_model
        self._names = [self.default_name] + [n for n in settings.embed_models if n != self.default_name]
        self._loader: Loader = loader or (lambda name: load_embedder(settings, name))
        self._loaded: OrderedDict[str, Embedder] = OrderedDict()
        self._reasons: dict[str, str] = {}
        self._dims: dict[str, tuple[int, int]] = {}
        self._lock = threading.Lock()
        if default is not None:
            self._remember(self.default_name, default)

    @property
    def model_names(self) -> list[str]:
        """Every model this service offers, default first."""
        return list(self._names)

    def _remember(self, name: str, embedder: Embedder) -> None:
        self._loaded[name] = embedder
        self._dims[name] = (embedder.dim, embedder.max_tokens)
        limit = max(1, self.settings.embed_max_loaded)
        while len(self._loaded) > limit:
            victim = next((n for n in self._loaded if n != self.default_name and n != name), None)
            if victim is None:
                break
            del self._loaded[victim]

    def get(self, name: str) -> Embedder:
        """The embedder for ``name``, loaded if needed (``NotFound``: unknown; ``Unavailable``: missing)."""
        if name not in self._names:
            # 404 like OpenAI's model_not_found: the name is well-formed, the model is not here.
            raise NotFound(f"model: unknown model {name!r}; available: {', '.join(self._names)}")
        with self._lock:
            embedder = self._loaded.get(name)
            if embedder is not None:
                self._loaded.move_to_end(name)
                return embedder
            embedder, reason = self._loader(name)
            self._reasons[name] = reason
            if embedder is None:
                raise Unavailable(reason)
            self._remember(name, embedder)
            return embedder

    def default(self) -> Embedder | None:
        """The default embedder, or None when it is not available (see ``reason``)."""
        try:
            return self.get(self.default_name)
        except Unavailable:
            return None

    def reason(self, name: str) -> str:
        """The last load message for ``name`` (where it came from, or why it is missing)."""
        return self._reasons.get(name, "not loaded yet")

    def list_models(self) -> list[dict[str, Any]]:
        """``[{id, dimensions, max_tokens, loaded, default}]``; sizes of never-loaded models come from the manifest."""
        from .manifest import entry_for

        out = []
        for name in self._names:
            dim, max_tokens = self._dims.get(name, (0, 0))
            if not dim:
                entry = entry_for(name)
                dim, max_tokens = entry.dim, min(entry.max_tokens, self.settings.max_seq_length)
            out.append({"id": name, "dimensions": dim, "max_tokens": max_tokens, "loaded": name in self._loaded,
                        "default": name == self.default_name})  # fmt: skip
        return out

    async def openai(self, body: Any) -> dict[str, Any]:
        """POST /v1/embeddings: ``{"input", "model"?}`` -> the OpenAI response shape.

        No model (or ``""``): the default; ``"all"`` or ``"*"``: every offered model that loads. The
        forward passes run in a worker thread, off the event loop.
        """
        q = EMBED.parse(body)
        model = q["model"]
        name = self.default_name if model in (None, "") else (ALL_MODELS if model == "all" else model)
        results = await asyncio.get_running_loop().run_in_executor(None, self.embed, name, q["input"])
        return openai_response(results)

    def embed(self, model: Any, inputs: Any) -> list[EmbeddingResult]:
        """Embed ``inputs`` with ``model`` (a name, or ``"*"`` for every offered model that is available)."""
        if not isinstance(model, str) or not model:
            raise Invalid("model", "must be a model name or '*'")
        texts = validate_inputs(inputs)
        if model == ALL_MODELS:
            # every offered model that can load; missing ones are skipped (see ``reason``)
            pairs = []
            for name in self._names:
                try:
                    pairs.append((name, self.get(name)))
                except Unavailable:
                    continue
            if not pairs:
                raise Unavailable(f"no embedding model is available: {self.reason(self.default_name)}")
            names, embedders = [n for n, _ in pairs], [e for _, e in pairs]
        else:
            names, embedders = [model], [self.get(model)]
        results = []
        for name, embedder in zip(names, embedders, strict=True):
            start = time.perf_counter()
            vectors = embedder.embed(texts)
            counts = [embedder.count_tokens(t) for t in texts]
            elapsed = (time.perf_counter() - start) * 1000.0
            results.append(EmbeddingResult(name, str(embedder.fingerprint), vectors, counts, elapsed))
        return results


def openai_response(results: list[EmbeddingResult]) -> dict[str, Any]:
    """The OpenAI response shape; with several models, one entry per model and input."""
    data: list[dict[str, Any]] = []
    for result in results:
        for i, vec in enumerate(result.vectors):
            data.append({"object": "embedding", "index": i, "model": result.model, "embedding": vec.tolist()})
    tokens = sum(r.total_tokens for r in results)
    out: dict[str, Any] = {
        "object": "list",
        "data": data,
        "model": results[0].model if len(results) == 1 else "*",
        "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
    }
    if len(results) > 1:
        out["timing"] = {r.model: {"ms": round(r.elapsed_ms, 3), "fingerprint": r.fingerprint} for r in results}
    return out
