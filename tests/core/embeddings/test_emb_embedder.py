"""OnnxEmbedder behaviour on tiny models: unit vectors, batching, chunking, odd inputs, threads."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engram_core.embeddings import reference
from engram_core.embeddings.base import (
    CHUNK_CHARS,
    CHUNK_OVERLAP,
    MAX_CHUNKS,
    Embedder,
    Fingerprint,
    split_chunks,
)
from engram_core.embeddings.onnx_model import OnnxEmbedder, load_tokenizer, pad_batch
from engram_core.errors import Invalid
from tests.support.tiny_models import CORPUS, TinyModel

ODD = [
    "",
    " ",
    "\x00\x00abc\x00",
    "😀" * 300,
    "\ud800 lone surrogate",
    "x" * 1_000_000,
    "\n\t\r",
    "ⓤⓝⓘⓒⓞⓓⓔ 日本語",
]


def _embedder(tiny: TinyModel, **kw: int) -> OnnxEmbedder:
    return OnnxEmbedder(tiny.converted, tiny.info, threads=1, **kw)


@pytest.mark.parametrize("kind", ["bert", "xlmr"])
def test_matches_reference_and_is_unit_length(tiny_models: dict[str, TinyModel], kind: str) -> None:
    tiny = tiny_models[kind]
    emb = _embedder(tiny)
    assert isinstance(emb, Embedder)
    texts = CORPUS[:5]
    vectors = emb.embed(texts)
    tok, pad = load_tokenizer(tiny.source / "tokenizer.json", emb.max_tokens)
    for text, vec in zip(texts, vectors, strict=True):
        ids, mask, _ = pad_batch([tok.encode(text)], pad, False)
        ref = reference.pool(reference.encode(tiny.spec, tiny.weights, ids, mask), mask, tiny.info.pooling)[0]
        assert np.abs(vec - ref).max() < 1e-4
    assert vectors.dtype == np.float32 and vectors.shape == (5, tiny.spec.hidden_size)
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)


def test_batching_and_order_do_not_change_results(tiny_models: dict[str, TinyModel]) -> None:
    texts = [CORPUS[i % 10] * (1 + i % 3) for i in range(23)]
    one = _embedder(tiny_models["bert"], batch_size=1).embed(texts)
    many = _embedder(tiny_models["bert"], batch_size=8).embed(texts)
    reversed_ = _embedder(tiny_models["bert"], batch_size=32).embed(texts[::-1])[::-1]
    assert np.abs(one - many).max() < 1e-5
    assert np.abs(one - reversed_).max() < 1e-5


def test_batches_are_cut_where_padding_would_grow(tiny_models: dict[str, TinyModel]) -> None:
    """Short queries and a long text in one call: two model runs, the short ones not padded to the long one."""
    emb = _embedder(tiny_models["bert"], batch_size=4)
    texts = ["the cat", "a dog", " ".join(CORPUS[:3]), "the cat sat", "dogs", "mice", "owls"]
    encodings = [emb._tok.encode(t) for t in texts]
    batches = list(emb._graph.batches(encodings))
    assert sorted(j for b in batches for j in b) == list(range(len(texts)))
    assert all(len(b) <= 4 for b in batches)
    for b in batches:
        lengths = [len(encodings[j].ids) for j in b]
        assert lengths == sorted(lengths) and max(lengths) <= min(lengths) * 1.25 + 2
    assert [2] in batches  # the long text runs alone
    alone = np.vstack([emb.embed([t]) for t in texts])
    assert np.abs(emb.embed(texts) - alone).max() < 1e-5


def test_single_text_is_not_padded(tiny_models: dict[str, TinyModel]) -> None:
    emb = _embedder(tiny_models["bert"])
    enc = emb._tok.encode("the cat")
    assert len(enc.ids) < 10  # the saved tokenizer pads to 128; the embedder must undo that


def test_long_text_is_chunked_and_length_weighted(tiny_models: dict[str, TinyModel]) -> None:
    emb = _embedder(tiny_models["bert"])
    text = " ".join(CORPUS) * 3  # far over the 64-token window
    chunks = split_chunks(text)
    assert 1 < len(chunks) <= MAX_CHUNKS
    parts = emb.embed(chunks)
    weights = np.array([len(c) for c in chunks], dtype=np.float32)[:, None]
    expected = (parts * weights).sum(axis=0)
    expected /= np.linalg.norm(expected)
    got = emb.embed([text, "short"])
    assert np.abs(got[0] - expected).max() < 1e-5
    assert np.abs(got[1] - emb.embed(["short"])[0]).max() < 1e-5


@pytest.mark.parametrize("kind", ["bert", "xlmr"])
def test_strange_inputs_do_not_crash(tiny_models: dict[str, TinyModel], kind: str) -> None:
    emb = _embedder(tiny_models[kind])
    vectors = emb.embed(ODD)
    assert vectors.shape == (len(ODD), emb.dim)
    assert np.isfinite(vectors).all()
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    for text in ODD:
        assert emb.count_tokens(text) >= 0
    assert emb.embed([]).shape == (0, emb.dim)


def test_count_tokens_ignores_the_window(tiny_models: dict[str, TinyModel]) -> None:
    emb = _embedder(tiny_models["bert"])
    assert emb.count_tokens("") == 0
    assert emb.count_tokens("the cat sat " * 100) > emb.max_tokens
    assert emb.max_tokens == 64


def test_thread_safe(tiny_models: dict[str, TinyModel]) -> None:
    emb = _embedder(tiny_models["xlmr"])
    texts = [CORPUS[i % 10] for i in range(40)]
    expected = emb.embed(texts)
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(lambda i: emb.embed([texts[i]])[0], range(40)))
    assert np.abs(np.vstack(results) - expected).max() < 1e-5


def test_fingerprint_round_trip(tiny_models: dict[str, TinyModel]) -> None:
    emb = _embedder(tiny_models["xlmr"])
    assert str(emb.fingerprint) == "tiny-xlmr:32:cls:l2"
    assert Fingerprint.parse(str(emb.fingerprint)) == emb.fingerprint
    assert Fingerprint.parse("org:model:384:mean:l2").model == "org:model"
    with pytest.raises(Invalid):
        Fingerprint.parse("minilm:x:mean")


@settings(max_examples=60, deadline=None)
@given(st.text(max_size=12000))
def test_chunks_cover_the_text(text: str) -> None:
    chunks = split_chunks(text)
    assert 1 <= len(chunks) <= MAX_CHUNKS
    assert all(len(c) <= CHUNK_CHARS for c in chunks)
    assert text.startswith(chunks[0])
    if len(text) <= CHUNK_CHARS:
        assert chunks == [text]
    covered = chunks[0]
    for chunk in chunks[1:]:
        assert len(chunk) > CHUNK_OVERLAP or text.endswith(chunk)
        covered_end = text.index(chunk, max(0, len(covered) - CHUNK_OVERLAP - 1))
        assert covered_end <= len(covered)
        covered = text[: covered_end + len(chunk)]
    assert len(covered) == len(text) or len(chunks) == MAX_CHUNKS
