"""Dynamic int8 quantization of a converted ONNX graph (onnxruntime's own quantizer).

The MatMul weights become int8 with per-tensor scales and activations are quantized at run time, so
an encoder runs 1.5-2x faster on a CPU at a small cost in accuracy (BENCHMARKS.md, "Int8 embeddings").
A quantized model is a different vector space: its name, and so its fingerprint, must differ.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

__all__ = ["QUANTIZATIONS", "quantize_graph"]

QUANTIZATIONS = ("int8",)


def quantize_graph(path: Path, scheme: str) -> None:
    """Replace the ONNX graph at ``path`` by its ``scheme``-quantized version (written beside it, then moved)."""
    if scheme not in QUANTIZATIONS:
        raise ValueError(f"unknown quantization {scheme!r}; known: {', '.join(QUANTIZATIONS)}")
    from onnxruntime.quantization import QuantType, quantize_dynamic

    staged = path.with_name(path.stem + f".{scheme}.onnx")
    root = logging.getLogger()
    level = root.level
    root.setLevel(logging.ERROR)  # the quantizer logs advice per node at WARNING through the root logger
    try:
        quantize_dynamic(path, staged, weight_type=QuantType.QInt8, op_types_to_quantize=["MatMul"])
    finally:
        root.setLevel(level)
    os.replace(staged, path)
