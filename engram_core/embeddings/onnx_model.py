"""The onnxruntime embedder: tokenise, sort by length, pad per batch, run, pool if needed, normalise.

One ``InferenceSession`` per model (intra-op threads from settings, inter-op 1, all graph optimisations);
``session.run`` and the Rust tokenizer are both safe to call from several threads, and the embedder keeps
no other mutable state, so one instance serves every thread. ``load_graph`` sets a model up (session,
tokenizer, window, batches, input feeds) the same way for the embedder and the reranker.
"""

from __future__ import annotations

import logging
import os

os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")  # before onnxruntime is imported anywhere

from collections.abc import Iterator, Sequence  # noqa: E402
from dataclasses import dataclass  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import onnxruntime as ort  # noqa: E402
from tokenizers import Encoding, Tokenizer  # noqa: E402

from .base import MAX_SPAN_CHARS, Fingerprint, ModelInfo, clean_text, split_chunks  # noqa: E402

__all__ = ["OnnxEmbedder", "OnnxGraph", "load_graph", "load_tokenizer", "make_session", "pad_batch"]

log = logging.getLogger("engram.embeddings")
_COUNT_SLICE = 16_384  # count_tokens splits longer texts so a pathological input stays linear
# A batch is cut before an encoding longer than its first (shortest) one x PAD_SLACK + PAD_TOKENS.
PAD_SLACK = 1.25
PAD_TOKENS = 2
_OUTPUT_PREFERENCE = ("sentence_embedding", "dense_vecs", "last_hidden_state", "token_embeddings")


def make_session(path: Path, threads: int = 0) -> ort.InferenceSession:
    """A CPU session: ``threads`` intra-op threads (0: one per core), one inter-op thread, ORT_ENABLE_ALL."""
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = threads if threads > 0 else (os.cpu_count() or 1)
    opts.inter_op_num_threads = 1
    opts.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    opts.log_severity_level = 3
    # No busy-waiting between runs: on a small machine the spinning intra-op threads would take the
    # cores the event loop, the SQLite threads and the next request need.
    opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
    return ort.InferenceSession(str(path), sess_options=opts, providers=["CPUExecutionProvider"])


def load_tokenizer(path: Path, window: int) -> tuple[Tokenizer, int]:
    """The tokenizer at ``path`` with its saved padding removed and truncation at ``window``; plus pad id."""
    tok = Tokenizer.from_file(str(path))
    saved = tok.padding
    pad_id: int | None = int(saved["pad_id"]) if saved and saved.get("pad_id") is not None else None
    for token in ("[PAD]", "<pad>"):
        if pad_id is None:
            pad_id = tok.token_to_id(token)
    tok.no_padding()
    tok.enable_truncation(max_length=window)
    return tok, pad_id if pad_id is not None else 0


def pad_batch(
    encodings: Sequence[Encoding], pad_id: int, with_types: bool
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """``input_ids``, ``attention_mask`` (and ``token_type_ids``) padded to the longest encoding."""
    width = max(len(e.ids) for e in encodings)
    ids = np.full((len(encodings), width), pad_id, dtype=np.int64)
    mask = np.zeros((len(encodings), width), dtype=np.int64)
    types = np.zeros((len(encodings), width), dtype=np.int64) if with_types else None
    for row, enc in enumerate(encodings):
        n = len(enc.ids)
        ids[row, :n] = enc.ids
        mask[row, :n] = 1
        if types is not None:
            types[row, :n] = enc.type_ids
    return ids, mask, types


@dataclass(frozen=True)
class OnnxGraph:
    """An ONNX graph with its tokenizer (truncating at ``window``) and the names of its inputs and outputs."""

    session: ort.InferenceSession
    tokenizer: Tokenizer
    pad_id: int
    window: int
    batch_size: int
    inputs: frozenset[str]
    outputs: list[str]

    def batches(self, encodings: Sequence[Encoding]) -> Iterator[list[int]]:
        """Indices into ``encodings`` in batches of at most ``batch_size``, shortest first, and cut where a
        longer encoding would pad the batch too much (``PAD_SLACK``): a padded token costs as much as a real
        one, so a micro-batch of short queries and a store's longer text runs as two calls, not one padded
        to the longest (mixed batches of the load bench: 9.7 -> 6.4 ms of CPU a text)."""
        order = sorted(range(len(encodings)), key=lambda j: len(encodings[j].ids))
        batch: list[int] = []
        for j in order:
            if batch and (
                len(batch) >= self.batch_size
                or len(encodings[j].ids) > len(encodings[batch[0]].ids) * PAD_SLACK + PAD_TOKENS
            ):
                yield batch
                batch = []
            batch.append(j)
        if batch:
            yield batch

    def feeds(self, encodings: Sequence[Encoding]) -> tuple[dict[str, np.ndarray], np.ndarray]:
        """The padded inputs the graph takes (``input_ids``, the mask and token types if it has them), and the mask."""
        ids, mask, types = pad_batch(encodings, self.pad_id, "token_type_ids" in self.inputs)
        feeds: dict[str, np.ndarray] = {"input_ids": ids}
        if "attention_mask" in self.inputs:
            feeds["attention_mask"] = mask
        if types is not None:
            feeds["token_type_ids"] = types
        return feeds, mask


def load_graph(directory: Path, info: ModelInfo, *, threads: int, batch_size: int, max_seq_length: int) -> OnnxGraph:
    """The model in ``directory`` with its session (``make_session``) and tokenizer (``load_tokenizer``).

    The tokenizer truncates at the smaller of the model's window and ``max_seq_length``, at least 8 tokens.
    """
    session = make_session(directory / info.onnx, threads)
    window = max(8, min(info.max_tokens, max_seq_length))
    tok, pad_id = load_tokenizer(directory / info.tokenizer, window)
    return OnnxGraph(
        session=session,
        tokenizer=tok,
        pad_id=pad_id,
        window=window,
        batch_size=max(1, batch_size),
        inputs=frozenset(i.name for i in session.get_inputs()),
        outputs=[o.name for o in session.get_outputs()],
    )


class OnnxEmbedder:
    """An ``Embedder`` over an ONNX encoder and a ``tokenizer.json``.

    ``info`` describes the model (see ``ModelInfo``); when ``info.graph_pooled`` is false the graph's
    output is taken as token states and pooled here (``info.pooling``) before normalisation.
    """

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
        self._tok = self._graph.tokenizer
        self._counter = Tokenizer.from_str(self._tok.to_str())
        self._counter.no_truncation()
        outputs = self._graph.outputs
        self._output = next((o for o in _OUTPUT_PREFERENCE if o in outputs), outputs[0])
        actual = int(self._run_batch([self._tok.encode("dimension probe")]).shape[1])
        if info.dim and info.dim != actual:
            log.warning("%s: the graph makes %d-d vectors, not %d as declared", info.name, actual, info.dim)
        info.dim = actual

    @property
    def name(self) -> str:
        return self.info.name

    @property
    def dim(self) -> int:
        return self.info.dim

    @property
    def fingerprint(self) -> Fingerprint:
        return self.info.fingerprint

    @property
    def max_tokens(self) -> int:
        """The token window one chunk is truncated to."""
        return self._graph.window

    def count_tokens(self, text: str) -> int:
        """Exact up to ``_COUNT_SLICE`` characters; longer texts are counted slice by slice (linear time)."""
        text = clean_text(text)
        if len(text) <= _COUNT_SLICE:
            return len(self._counter.encode(text, add_special_tokens=False).ids)
        slices = [text[i : i + _COUNT_SLICE] for i in range(0, len(text), _COUNT_SLICE)]
        return sum(len(e.ids) for e in self._counter.encode_batch(slices, add_special_tokens=False))

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        texts = [clean_text(t[:MAX_SPAN_CHARS]) for t in texts]
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        encodings = [self._tok.encode(texts[0])] if len(texts) == 1 else self._tok.encode_batch(texts)
        long = [i for i, e in enumerate(encodings) if e.overflowing]
        if not long:
            return self._run(encodings)
        # texts over the window: embed overlapping chunks, average weighted by chunk length, renormalise
        owners: list[int] = []
        weights: list[float] = []
        segments: list[Encoding] = []
        pieces: list[str] = []
        for i, enc in enumerate(encodings):
            if not enc.overflowing:
                owners.append(i)
                weights.append(1.0)
                segments.append(enc)
        for i in long:
            for chunk in split_chunks(texts[i]):
                owners.append(i)
                weights.append(float(len(chunk)))
                pieces.append(chunk)
        segments.extend(self._tok.encode_batch(pieces))
        vectors = self._run(segments) * np.asarray(weights, dtype=np.float32)[:, None]
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        np.add.at(out, np.asarray(owners), vectors)
        return _normalize(out)

    def _run(self, encodings: Sequence[Encoding]) -> np.ndarray:
        """Vectors in input order; runs shortest-first in batches so padding stays small."""
        result = np.empty((len(encodings), self.dim), dtype=np.float32)
        for idx in self._graph.batches(encodings):
            result[idx] = self._run_batch([encodings[j] for j in idx])
        return result

    def _run_batch(self, encodings: Sequence[Encoding]) -> np.ndarray:
        feeds, mask = self._graph.feeds(encodings)
        out = np.asarray(self._graph.session.run([self._output], feeds)[0], dtype=np.float32)
        if out.ndim == 3:
            if self.info.pooling == "cls":
                out = out[:, 0, :]
            else:
                m = mask[:, :, None].astype(np.float32)
                out = (out * m).sum(axis=1) / np.maximum(m.sum(axis=1), 1e-9)
        if self.info.graph_pooled and out.ndim == 2 and self._output == "sentence_embedding":
            return out
        return _normalize(out)


def _normalize(x: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    out: np.ndarray = (x / np.maximum(norms, 1e-12)).astype(np.float32, copy=False)
    return out
