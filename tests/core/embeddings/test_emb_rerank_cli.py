"""The cross-encoder reranker and the ``engram models`` command."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from engram_core.embeddings import reference
from engram_core.embeddings.cli import main
from engram_core.embeddings.onnx_model import load_tokenizer, pad_batch
from engram_core.embeddings.rerank import Reranker, load_reranker
from engram_core.settings import Settings
from tests.support.tiny_models import TinyModel, install_tiny_model


@pytest.mark.parametrize("kind", ["bert-ce", "xlmr-ce"])
def test_scores_are_sigmoid_of_reference_logits(tiny_models: dict[str, TinyModel], kind: str) -> None:
    tiny = tiny_models[kind]
    reranker = Reranker(tiny.converted, tiny.info, threads=1, batch_size=2)
    docs = ["The cat sat on the mat.", "Quarterly tax filing deadlines.", "", "rain " * 200, "\x00😀"]
    scores = reranker.score("where did the cat sit?", docs)
    assert scores.shape == (5,) and scores.dtype == np.float32
    assert ((scores >= 0) & (scores <= 1)).all()
    tok, pad = load_tokenizer(tiny.source / "tokenizer.json", tiny.spec.max_tokens)
    for doc, got in zip(docs[:2], scores[:2], strict=True):
        ids, mask, types = pad_batch([tok.encode("where did the cat sit?", doc)], pad, True)
        types_in = types if tiny.spec.architecture == "bert" else None
        logit = reference.scores(tiny.spec, tiny.weights, ids, mask, types_in)[0, 0]
        assert abs(got - 1 / (1 + np.exp(-logit))) < 1e-5
    assert reranker.score("q", []).shape == (0,)
    again = reranker.score("where did the cat sit?", docs[::-1])[::-1]
    assert np.abs(again - scores).max() < 1e-6


def test_load_reranker(tmp_path: Path) -> None:
    settings = Settings.for_data_dir(tmp_path, reranker_model="tiny-ce")
    reranker, reason = load_reranker(settings)
    assert reranker is None and "not installed" in reason
    install_tiny_model(settings.models_dir, "tiny-ce", task="classify")
    reranker, reason = load_reranker(settings)
    assert reranker is not None, reason
    assert reranker.score("cat", ["cat", "tax"]).shape == (2,)
    install_tiny_model(settings.models_dir, "minilm")
    reranker, reason = load_reranker(settings, "minilm")
    assert reranker is None and "not a cross-encoder" in reason


def test_cli_list_ensure_reembed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("ENGRAM_MODELS_DIR", raising=False)
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hf"))
    data = tmp_path / "data"
    assert main(["--data-dir", str(data), "list"]) == 0
    out = capsys.readouterr().out
    assert "minilm [default]: not installed" in out and "bge-m3" in out
    assert main(["--data-dir", str(data), "ensure", "bge-m3"]) == 1
    assert "cannot be pulled" in capsys.readouterr().err
    install_tiny_model(data / "models")
    assert main(["--data-dir", str(data), "ensure"]) == 0
    assert "minilm:32:mean:l2" in capsys.readouterr().out
    other = tmp_path / "elsewhere"
    install_tiny_model(other, "bge-m3", "xlm-roberta", pooling="cls")
    assert main(["--data-dir", str(data), "--models-dir", str(other), "list"]) == 0
    assert "bge-m3: " + str(other / "bge-m3") in capsys.readouterr().out
