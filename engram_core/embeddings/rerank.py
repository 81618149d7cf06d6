"""Cross-encoder reranking: score ``(query, document)`` pairs with an ONNX sequence classifier.

Works with Engram-converted BERT / XLM-RoBERTa cross-encoders (output ``logits``) and with pre-exported
ONNX cross-encoders such as granite-embedding-reranker-english-r2, as long as ``tokenizer.json`` sits
beside the graph. Scores are ``sigmoid(logit)`` in ``[0, 1]`` (for two-label heads: the positive class
probability).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from ..settings import Settings
from .base import MAX_SPAN_CHARS, ModelInfo, clean_text
from .onnx_model import load_graph
from .registry import onnx_threads, resolve

__all__ = ["Reranker", "load_reranker"]

log = logging.getLogger("engram.embeddings")


class Reranker:
    """Scores documents against a query; thread-safe like ``OnnxEmbedder``."""

    def __init__(
        self,
        directory: Path,
        info: ModelInfo,
        *,
        threads: int = 0,
        batch_size: int = 32,
        max_seq_length: int = 512,
    ) -> None:
        self.directory = directory
        self.info = info
        self._graph = load_graph(directory, info, threads=threads, batch_size=batch_size, max_seq_length=max_seq_length)
        outputs = self._graph.outputs
        self._output = "logits" if "logits" in outputs else outputs[0]

    @property
    def name(self) -> str:
        return self.info.name

    def score(self, query: str, docs: Sequence[str]) -> np.ndarray:
        """Relevance of each of ``docs`` to ``query`` as float32 in ``[0, 1]``, in input order."""
        if not docs:
            return np.zeros(0, dtype=np.float32)
        q = clean_text(query[:MAX_SPAN_CHARS])
        pairs = [(q, clean_text(d[:MAX_SPAN_CHARS])) for d in docs]
        encodings = self._graph.tokenizer.encode_batch(pairs)
        out = np.empty(len(encodings), dtype=np.float32)
        for idx in self._graph.batches(encodings):
            feeds, _ = self._graph.feeds([encodings[j] for j in idx])
            logits = np.asarray(self._graph.session.run([self._output], feeds)[0], dtype=np.float32)
            out[idx] = _to_scores(logits)
        return out


def _to_scores(logits: np.ndarray) -> np.ndarray:
    if logits.ndim == 1:
        logits = logits[:, None]
    # two classes: softmax of the positive one == sigmoid of the logit difference
    diff = logits[:, 1] - logits[:, 0] if logits.shape[1] == 2 else logits[:, 0]
    return (1.0 / (1.0 + np.exp(-diff.astype(np.float64)))).astype(np.float32)


def load_reranker(settings: Settings, name: str | None = None) -> tuple[Reranker | None, str]:
    """Load the reranker (``settings.reranker_model``); never raises: ``(None, reason)`` when missing."""
    model = name or settings.reranker_model
    try:
        found = resolve(model, settings)
        if found is None:
            return None, f"reranker {model!r} is not installed (see `engram models list`)"
        if found.info.task != "classify":
            return None, f"model {model!r} is an {found.info.task} model, not a cross-encoder"
        reranker = Reranker(
            found.directory,
            found.info,
            threads=onnx_threads(settings),
            batch_size=settings.embed_batch_size,
            max_seq_length=settings.max_seq_length,
        )
        return reranker, f"{model} from {found.directory} ({found.origin})"
    except Exception as exc:  # a model problem must never take the caller down
        log.warning("reranker %s unavailable: %s", model, exc)
        return None, f"reranker {model!r} failed to load: {exc}"
