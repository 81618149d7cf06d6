"""Vectors as stored in SQLite: float32 little-endian blobs."""

from __future__ import annotations

import numpy as np

__all__ = ["from_blob", "normalise", "to_blob"]


def to_blob(vector: np.ndarray) -> bytes:
    return np.ascontiguousarray(vector, dtype="<f4").tobytes()


def from_blob(blob: bytes) -> np.ndarray:
    return np.frombuffer(blob, dtype="<f4")


def normalise(vector: np.ndarray) -> np.ndarray:
    """Unit length (a zero vector stays zero)."""
    vec = np.asarray(vector, dtype=np.float32)
    norm = float(np.linalg.norm(vec))
    return vec / norm if norm > 0 else vec
