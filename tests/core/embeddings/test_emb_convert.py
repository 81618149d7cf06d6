"""The ONNX converter agrees with the numpy reference forward pass."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import onnx
import pytest

from engram_core.embeddings import reference
from engram_core.embeddings.convert import build_model, convert_file
from engram_core.embeddings.onnx_model import load_tokenizer, make_session, pad_batch
from engram_core.embeddings.spec import EncoderSpec, normalize_keys
from engram_core.errors import Invalid
from tests.support.tiny_models import TinyModel

TEXTS = ["The cat sat on the mat.", "", "rain tomorrow, bring an umbrella 😀", "a " * 40]


def _feeds(tiny: TinyModel, model_path: Path, texts: list[str]) -> tuple[dict[str, np.ndarray], np.ndarray]:
    tok, pad = load_tokenizer(tiny.source / "tokenizer.json", tiny.spec.max_tokens)
    session = make_session(model_path, threads=1)
    wants_types = any(i.name == "token_type_ids" for i in session.get_inputs())
    ids, mask, types = pad_batch(tok.encode_batch(texts), pad, True)
    feeds = {"input_ids": ids, "attention_mask": mask}
    if wants_types:
        feeds["token_type_ids"] = types
    return feeds, session.run(None, feeds)[0]


@pytest.mark.parametrize("kind", ["bert", "xlmr"])
def test_embedding_graph_matches_reference(tiny_models: dict[str, TinyModel], kind: str) -> None:
    tiny = tiny_models[kind]
    feeds, out = _feeds(tiny, tiny.converted / "model.onnx", TEXTS)
    states = reference.encode(tiny.spec, tiny.weights, feeds["input_ids"], feeds["attention_mask"])
    expected = reference.pool(states, feeds["attention_mask"], tiny.info.pooling)
    assert out.shape == (len(TEXTS), tiny.spec.hidden_size)
    assert np.abs(out - expected).max() < 1e-4
    np.testing.assert_allclose(np.linalg.norm(out, axis=1), 1.0, atol=1e-5)


@pytest.mark.parametrize("kind", ["bert-ce", "xlmr-ce"])
def test_classifier_graph_matches_reference(tiny_models: dict[str, TinyModel], kind: str) -> None:
    tiny = tiny_models[kind]
    pairs = [("cat on a mat", "The cat sat on the mat."), ("taxes", "Rain is expected tomorrow.")]
    tok, pad = load_tokenizer(tiny.source / "tokenizer.json", tiny.spec.max_tokens)
    ids, mask, types = pad_batch(tok.encode_batch(pairs), pad, True)
    session = make_session(tiny.converted / "model.onnx", threads=1)
    feeds = {"input_ids": ids, "attention_mask": mask}
    if any(i.name == "token_type_ids" for i in session.get_inputs()):
        feeds["token_type_ids"] = types
    logits = session.run(["logits"], feeds)[0]
    expected = reference.scores(tiny.spec, tiny.weights, ids, mask, feeds.get("token_type_ids"))
    assert logits.shape == (2, 1)
    assert np.abs(logits - expected).max() < 1e-4


@pytest.mark.parametrize("pooling", ["mean", "cls"])
@pytest.mark.parametrize("normalize", [True, False])
def test_pooling_variants(tiny_models: dict[str, TinyModel], tmp_path: Path, pooling: str, normalize: bool) -> None:
    tiny = tiny_models["bert"]
    out_path = tmp_path / "m.onnx"
    convert_file(
        tiny.source / "config.json",
        tiny.source / "model.safetensors",
        out_path,
        pooling=pooling,
        normalize=normalize,
    )
    feeds, out = _feeds(tiny, out_path, TEXTS[:2])
    states = reference.encode(tiny.spec, tiny.weights, feeds["input_ids"], feeds["attention_mask"])
    expected = reference.pool(states, feeds["attention_mask"], pooling, normalize)
    assert np.abs(out - expected).max() < 1e-4


def test_graph_passes_the_onnx_checker(tiny_models: dict[str, TinyModel]) -> None:
    model = onnx.load(str(tiny_models["xlmr"].converted / "model.onnx"))
    onnx.checker.check_model(model, full_check=True)
    assert [i.name for i in model.graph.input] == ["input_ids", "attention_mask"]
    assert [o.name for o in model.graph.output] == ["sentence_embedding"]
    assert {n.op_type for n in model.graph.node} >= {"Erf", "LayerNormalization", "Softmax"}


def test_key_prefixes_and_old_layernorm_names(tiny_models: dict[str, TinyModel]) -> None:
    raw = {
        "bert." + k.replace("LayerNorm.weight", "LayerNorm.gamma"): v for k, v in tiny_models["bert"].weights.items()
    }
    raw["bert.embeddings.position_ids"] = np.arange(4)[None, :]
    keys = normalize_keys(raw)
    assert set(keys) == set(tiny_models["bert"].weights)
    with pytest.raises(Invalid):
        normalize_keys({"foo.weight": np.zeros(2, dtype=np.float32)})


def test_config_rejects_what_the_graph_cannot_do(tiny_models: dict[str, TinyModel]) -> None:
    config = json.loads((tiny_models["bert"].source / "config.json").read_text())
    for bad in ({"model_type": "gpt2"}, {"hidden_act": "relu"}, {"position_embedding_type": "relative_key"}):
        with pytest.raises(Invalid):
            EncoderSpec.from_config({**config, **bad})
    with pytest.raises(Invalid):
        build_model(tiny_models["bert"].spec, tiny_models["bert"].weights, pooling="max")
    with pytest.raises(Invalid):
        build_model(tiny_models["bert"].spec, tiny_models["bert"].weights, task="classify")


def test_xlmr_positions_start_after_padding_idx(tiny_models: dict[str, TinyModel]) -> None:
    tiny = tiny_models["xlmr"]
    assert tiny.spec.position_offset == tiny.spec.pad_token_id + 1
    # right padding must not change the real tokens' result
    feeds, out = _feeds(tiny, tiny.converted / "model.onnx", ["short", "a much longer sentence about cats"])
    _, alone = _feeds(tiny, tiny.converted / "model.onnx", ["short"])
    assert np.abs(out[0] - alone[0]).max() < 1e-5
