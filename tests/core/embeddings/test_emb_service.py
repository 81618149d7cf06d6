"""EmbeddingService: input validation, lazy loading, LRU eviction, ``*``."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pytest

from engram_core.embeddings.base import Embedder, Fingerprint
from engram_core.embeddings.service import MAX_INPUTS, EmbeddingService, validate_inputs
from engram_core.errors import Invalid, NotFound, Unavailable
from engram_core.settings import Settings
from tests.support.tiny_models import install_tiny_model


class FakeEmbedder:
    """A deterministic embedder: one-hot-ish vectors from the text length."""

    def __init__(self, name: str, dim: int = 4) -> None:
        self._name, self._dim = name, dim

    name = property(lambda self: self._name)
    dim = property(lambda self: self._dim)
    max_tokens = property(lambda self: 16)
    fingerprint = property(lambda self: Fingerprint(self._name, self._dim, "mean"))

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        out = np.zeros((len(texts), self._dim), dtype=np.float32)
        out[np.arange(len(texts)), [len(t) % self._dim for t in texts]] = 1.0
        return out

    def count_tokens(self, text: str) -> int:
        return len(text.split())


def _service(tmp_settings: Settings, loads: list[str], missing: frozenset[str] = frozenset()) -> EmbeddingService:
    def loader(name: str) -> tuple[Embedder | None, str]:
        loads.append(name)
        if name in missing:
            return None, f"{name} is not installed"
        return FakeEmbedder(name, dim=4 + len(loads)), f"{name} loaded"

    return EmbeddingService(tmp_settings, loader=loader)


@pytest.fixture
def settings(tmp_path: object) -> Settings:
    return Settings.for_data_dir(str(tmp_path), embed_models=("a", "b", "c"), embed_max_loaded=2)


@pytest.mark.parametrize(
    ("value", "field"),
    [([], "input"), ([1], "input[0]"), (["ok", None], "input[1]"), (None, "input"), ({"x": 1}, "input"),
     (["x"] * (MAX_INPUTS + 1), "input"), (["x" * 1_000_001], "input[0]")],
)  # fmt: skip
def test_validation(value: object, field: str) -> None:
    with pytest.raises(Invalid) as err:
        validate_inputs(value)
    assert err.value.field == field


def test_a_single_string_is_one_input() -> None:
    assert validate_inputs("hello") == ["hello"]
    assert validate_inputs(("a", "b")) == ["a", "b"]


def test_embed_and_unknown_model(settings: Settings) -> None:
    loads: list[str] = []
    service = _service(settings, loads)
    [result] = service.embed("minilm", ["one two", "three"])
    assert result.vectors.shape[0] == 2 and result.token_counts == [2, 1] and result.total_tokens == 3
    assert result.elapsed_ms >= 0 and result.fingerprint.startswith("minilm:")
    with pytest.raises(NotFound, match="unknown model 'nope'"):  # 404, like OpenAI's model_not_found
        service.embed("nope", ["x"])
    with pytest.raises(Invalid):
        service.embed(3, ["x"])
    with pytest.raises(Invalid):
        service.embed("minilm", [])


def test_lazy_loading_and_lru_eviction(settings: Settings) -> None:
    loads: list[str] = []
    service = _service(settings, loads)
    assert service.model_names == ["minilm", "a", "b", "c"]
    assert not any(m["loaded"] for m in service.list_models())
    service.embed("a", ["x"])
    service.embed("b", ["x"])  # a evicted: only 2 may be loaded
    service.embed("minilm", ["x"])  # b evicted
    service.embed("c", ["x"])  # b... the default is never evicted
    loaded = {m["id"] for m in service.list_models() if m["loaded"]}
    assert loaded == {"minilm", "c"}
    service.embed("minilm", ["x"])
    assert loads == ["a", "b", "minilm", "c"]
    listed = {m["id"]: m for m in service.list_models()}
    assert listed["minilm"]["dimensions"] > 0 and listed["minilm"]["max_tokens"] == 16


def test_star_uses_every_available_model(settings: Settings) -> None:
    service = _service(settings, [], missing=frozenset({"b"}))
    results = service.embed("*", ["hello"])
    assert [r.model for r in results] == ["minilm", "a", "c"]
    assert "not installed" in service.reason("b")
    with pytest.raises(Unavailable):
        service.embed("b", ["x"])


def test_nothing_available(settings: Settings) -> None:
    service = _service(settings.replace(embed_models=()), [], missing=frozenset({"minilm"}))
    assert service.default() is None
    with pytest.raises(Unavailable):
        service.embed("*", ["x"])


def test_with_a_real_loader_and_an_injected_default(settings: Settings) -> None:
    install_tiny_model(settings.models_dir)
    service = EmbeddingService(settings.replace(embed_models=()))
    default = service.default()
    assert default is not None and default.dim == 32
    shared = EmbeddingService(settings, default=default)
    assert shared.get("minilm") is default
    [result] = shared.embed("minilm", ["the cat sat on the mat"])
    np.testing.assert_allclose(np.linalg.norm(result.vectors, axis=1), 1.0, atol=1e-5)
