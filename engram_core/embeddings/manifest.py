"""The named-model manifest (``models/manifest.json``; ``engram_core/_models/`` in a wheel)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import engram_core

__all__ = ["DEFAULT_ONNX_FILES", "ManifestEntry", "PypiSource", "entry_for", "load_manifest", "manifest_path"]

DEFAULT_ONNX_FILES = ("model.onnx", "onnx/model_quantized.onnx", "onnx/model.onnx", "model_quantized.onnx")


@dataclass(frozen=True)
class PypiSource:
    """A wheel on PyPI that carries the weights: ``files`` under ``prefix``, with pinned sha256 sums."""

    package: str
    version: str
    prefix: str
    files: tuple[str, ...]
    sha256: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class ManifestEntry:
    """One named model: what it is and where it may come from."""

    name: str
    task: str = "embed"  # embed | classify
    architecture: str = ""
    dim: int = 0
    pooling: str = "mean"
    max_tokens: int = 512
    description: str = ""
    hf_repo: str = ""
    onnx_files: tuple[str, ...] = DEFAULT_ONNX_FILES
    pypi: PypiSource | None = None
    quantize: str = ""  # "" (the converted float32 graph) or "int8" (engram_core.embeddings.quantize)

    @property
    def pullable(self) -> bool:
        return self.pypi is not None

    @classmethod
    def from_json(cls, name: str, body: dict[str, Any]) -> ManifestEntry:
        pypi = body.get("pypi")
        return cls(
            name=name,
            task=str(body.get("task", "embed")),
            architecture=str(body.get("architecture", "")),
            dim=int(body.get("dim", 0)),
            pooling=str(body.get("pooling", "mean")),
            max_tokens=int(body.get("max_tokens", 512)),
            description=str(body.get("description", "")),
            hf_repo=str(body.get("hf_repo", "")),
            onnx_files=tuple(body.get("onnx_files", DEFAULT_ONNX_FILES)),
            quantize=str(body.get("quantize", "")),
            pypi=None
            if not pypi
            else PypiSource(
                package=pypi["package"],
                version=pypi["version"],
                prefix=pypi.get("prefix", ""),
                files=tuple(pypi["files"]),
                sha256=dict(pypi.get("sha256", {})),
            ),
        )


def manifest_path() -> Path:
    """``engram_core/_models/manifest.json`` in an installed wheel, else ``<repo>/models/manifest.json``."""
    package = Path(engram_core.__file__).parent
    bundled = package / "_models" / "manifest.json"
    return bundled if bundled.is_file() else package.parent / "models" / "manifest.json"


@lru_cache(maxsize=4)
def _load(path: Path) -> dict[str, ManifestEntry]:
    with open(path, encoding="utf-8") as fh:
        body = json.load(fh)
    return {name: ManifestEntry.from_json(name, spec) for name, spec in body.get("models", {}).items()}


def load_manifest(path: Path | None = None) -> dict[str, ManifestEntry]:
    """All named models (empty when the manifest file is missing)."""
    target = path or manifest_path()
    return _load(target) if target.is_file() else {}


def entry_for(name: str) -> ManifestEntry:
    """The manifest entry for ``name``; an unnamed model gets defaults (embed, mean pooling)."""
    return load_manifest().get(name) or ManifestEntry(name=name)
