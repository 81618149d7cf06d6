"""What an embedder is: the ``Embedder`` protocol, its ``Fingerprint``, model metadata and text chunking.

Everything else in Engram depends on this module only; the ONNX runtime lives in ``onnx_model``.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np

from ..errors import Invalid

__all__ = [
    "CHUNK_CHARS",
    "CHUNK_OVERLAP",
    "MAX_CHUNKS",
    "MAX_SPAN_CHARS",
    "META_FILE",
    "Embedder",
    "Fingerprint",
    "ModelInfo",
    "clean_text",
    "split_chunks",
]

CHUNK_CHARS = 1440
CHUNK_OVERLAP = 160
MAX_CHUNKS = 6
MAX_SPAN_CHARS = MAX_CHUNKS * CHUNK_CHARS - (MAX_CHUNKS - 1) * CHUNK_OVERLAP  # text past this is not embedded
META_FILE = "engram-model.json"


@dataclass(frozen=True)
class Fingerprint:
    """Identity of a vector space: two embedders with equal fingerprints make comparable vectors.

    The string form ``model:dim:pooling:normalization`` (e.g. ``minilm:384:mean:l2``) is what the
    database records.
    """

    model: str
    dim: int
    pooling: str
    normalization: str = "l2"

    def __str__(self) -> str:
        return f"{self.model}:{self.dim}:{self.pooling}:{self.normalization}"

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def parse(cls, text: str) -> Fingerprint:
        """Read the string form back; ``Invalid`` if it is malformed."""
        parts = text.rsplit(":", 3)
        if len(parts) != 4 or not parts[1].isdigit():
            raise Invalid("fingerprint", f"expected model:dim:pooling:normalization, got {text!r}")
        return cls(parts[0], int(parts[1]), parts[2], parts[3])


@runtime_checkable
class Embedder(Protocol):
    """Turns texts into L2-normalised float32 vectors. Implementations are thread-safe."""

    @property
    def name(self) -> str: ...

    @property
    def dim(self) -> int: ...

    @property
    def fingerprint(self) -> Fingerprint: ...

    @property
    def max_tokens(self) -> int: ...

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """An ``(len(texts), dim)`` float32 array of unit vectors, in input order."""
        ...

    def count_tokens(self, text: str) -> int:
        """Tokens of ``text`` under this model's tokenizer (no special tokens, no truncation)."""
        ...


@dataclass
class ModelInfo:
    """Contents of ``engram-model.json``, written beside a prepared model's files."""

    name: str
    task: str = "embed"  # embed | classify
    dim: int = 0
    pooling: str = "mean"
    normalization: str = "l2"
    max_tokens: int = 512
    onnx: str = "model.onnx"
    tokenizer: str = "tokenizer.json"
    graph_pooled: bool = True  # the graph pools and normalises itself (Engram-converted models)
    architecture: str = ""
    source: dict[str, Any] = field(default_factory=dict)

    @property
    def fingerprint(self) -> Fingerprint:
        return Fingerprint(self.name, self.dim, self.pooling, self.normalization)

    def to_json(self) -> dict[str, Any]:
        body = asdict(self)
        body["fingerprint"] = str(self.fingerprint)
        return body

    @classmethod
    def from_json(cls, body: dict[str, Any]) -> ModelInfo:
        known = {k: v for k, v in body.items() if k in cls.__dataclass_fields__}
        return cls(**known)

    @classmethod
    def read(cls, directory: Path) -> ModelInfo:
        with open(directory / META_FILE, encoding="utf-8") as fh:
            return cls.from_json(json.load(fh))

    def write(self, directory: Path) -> None:
        """Write ``engram-model.json`` into ``directory`` (atomically)."""
        tmp = directory / f".{META_FILE}.{os.getpid()}.tmp"
        tmp.write_text(json.dumps(self.to_json(), indent=2, sort_keys=True) + "\n", encoding="utf-8")
        os.replace(tmp, directory / META_FILE)


def clean_text(text: str) -> str:
    """``text`` made safe for the tokenizer: lone surrogates (not encodable as UTF-8) become U+FFFD."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-8", "replace").decode("utf-8")
    return text


def split_chunks(
    text: str, size: int = CHUNK_CHARS, overlap: int = CHUNK_OVERLAP, max_chunks: int = MAX_CHUNKS
) -> list[str]:
    """Overlapping character windows over ``text`` (at most ``max_chunks``; the rest is dropped).

    A window ends at the last whitespace inside its final ``overlap`` characters when there is one, so
    words are rarely cut; the next window starts ``overlap`` characters before that end.
    """
    if size <= overlap:
        raise ValueError("size must exceed overlap")
    chunks: list[str] = []
    start = 0
    while start < len(text) and len(chunks) < max_chunks:
        end = start + size
        if end < len(text):
            cut = max(text.rfind(" ", end - overlap, end), text.rfind("\n", end - overlap, end))
            if cut > start + overlap:
                end = cut
        chunks.append(text[start:end])
        if end >= len(text):
            break
        start = end - overlap
    return chunks or [text]
