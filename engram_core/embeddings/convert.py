"""Build an ONNX graph for a BERT-family encoder from ``config.json`` + ``model.safetensors`` (no torch).

The graph takes ``input_ids`` and ``attention_mask`` (and ``token_type_ids`` for BERT, whose
type table has more than one row), all int64 ``(batch, seq)``. Embedding graphs pool (mean over unmasked
tokens, or CLS) and L2-normalise *inside* the graph and output ``sentence_embedding`` ``(batch, hidden)``.
Cross-encoder graphs (``task="classify"``) output ``logits`` ``(batch, num_labels)`` from the classifier
head. The maths matches ``reference.py`` operation for operation, including the erf GELU written in the
pattern onnxruntime fuses into its Gelu kernel.
"""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path
from typing import Any

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from ..errors import Invalid
from .reference import MASK_VALUE
from .spec import POOLINGS, EncoderSpec, Weights, head_kind, load_weights

__all__ = ["OPSET", "build_model", "convert_file", "save_model"]

OPSET = 17  # first opset with LayerNormalization
_EXTERNAL_DATA_BYTES = 1_500_000_000  # above this the weights go to a side file (protobuf's 2 GB limit)


class _Graph:
    """Accumulates nodes and initializers, naming every intermediate value uniquely."""

    def __init__(self) -> None:
        self.nodes: list[onnx.NodeProto] = []
        self.inits: list[onnx.TensorProto] = []
        self._n = 0

    def const(self, name: str, value: np.ndarray | float | int | list[int]) -> str:
        arr = np.asarray(value)
        if arr.dtype == np.float64:
            arr = arr.astype(np.float32)
        self.inits.append(numpy_helper.from_array(arr.copy(order="C"), name))
        return name

    def op(self, op_type: str, *inputs: str, **attrs: Any) -> str:
        self._n += 1
        out = f"{op_type.lower()}_{self._n}"
        self.nodes.append(helper.make_node(op_type, list(inputs), [out], name=f"{op_type}_{self._n}", **attrs))
        return out

    def linear(self, x: str, weights: Weights, name: str) -> str:
        w = self.const(f"{name}.weight_t", weights[f"{name}.weight"].T)
        b = self.const(f"{name}.bias", weights[f"{name}.bias"])
        return self.op("Add", self.op("MatMul", x, w), b)

    def layer_norm(self, x: str, weights: Weights, name: str, eps: float) -> str:
        w = self.const(f"{name}.weight", weights[f"{name}.weight"])
        b = self.const(f"{name}.bias", weights[f"{name}.bias"])
        return self.op("LayerNormalization", x, w, b, axis=-1, epsilon=eps)


def _embeddings(g: _Graph, spec: EncoderSpec, weights: Weights, with_types: bool) -> str:
    word = g.op("Gather", g.const("word_embeddings", weights["embeddings.word_embeddings.weight"]), "input_ids")
    pos_table = g.const("position_embeddings", weights["embeddings.position_embeddings.weight"])
    if spec.architecture == "xlm-roberta":
        # position ids = cumsum(mask) * mask + padding_idx: pads get padding_idx, real tokens count from +1
        cum = g.op("CumSum", "attention_mask", g.const("axis_1", np.array(1, dtype=np.int64)))
        ids = g.op("Add", g.op("Mul", cum, "attention_mask"), g.const("pad_idx", np.array(spec.pad_token_id)))
        positions = g.op("Gather", pos_table, ids)
    else:
        # the first `seq` rows of the table, broadcast over the batch
        seq = g.op("Shape", "input_ids", start=1, end=2)
        zero = g.const("zero_1d", np.array([0], dtype=np.int64))
        positions = g.op("Slice", pos_table, zero, seq, zero)
    h = g.op("Add", word, positions)
    types = weights["embeddings.token_type_embeddings.weight"]
    if with_types:
        h = g.op("Add", h, g.op("Gather", g.const("token_type_embeddings", types), "token_type_ids"))
    else:
        h = g.op("Add", h, g.const("token_type_row0", types[0]))
    return g.layer_norm(h, weights, "embeddings.LayerNorm", spec.layer_norm_eps)


def _layer(g: _Graph, spec: EncoderSpec, weights: Weights, h: str, bias: str, i: int) -> str:
    p = f"encoder.layer.{i}"
    split = g.const(f"{p}.split_shape", np.array([0, 0, spec.num_heads, spec.head_dim], dtype=np.int64))
    q = g.op(
        "Transpose",
        g.op("Reshape", g.linear(h, weights, f"{p}.attention.self.query"), split),
        perm=[0, 2, 1, 3],
    )
    k = g.op(
        "Transpose",
        g.op("Reshape", g.linear(h, weights, f"{p}.attention.self.key"), split),
        perm=[0, 2, 3, 1],
    )
    v = g.op(
        "Transpose",
        g.op("Reshape", g.linear(h, weights, f"{p}.attention.self.value"), split),
        perm=[0, 2, 1, 3],
    )
    scores = g.op("Div", g.op("MatMul", q, k), g.const(f"{p}.scale", np.array(math.sqrt(spec.head_dim))))
    probs = g.op("Softmax", g.op("Add", scores, bias), axis=-1)
    merge = g.const(f"{p}.merge_shape", np.array([0, 0, spec.hidden_size], dtype=np.int64))
    ctx = g.op("Reshape", g.op("Transpose", g.op("MatMul", probs, v), perm=[0, 2, 1, 3]), merge)
    attn = g.op("Add", g.linear(ctx, weights, f"{p}.attention.output.dense"), h)
    h = g.layer_norm(attn, weights, f"{p}.attention.output.LayerNorm", spec.layer_norm_eps)
    inter = g.linear(h, weights, f"{p}.intermediate.dense")
    erf = g.op("Erf", g.op("Div", inter, g.const(f"{p}.sqrt2", np.array(math.sqrt(2.0)))))
    half = g.const(f"{p}.half", np.array(0.5))
    gelu = g.op("Mul", g.op("Mul", inter, g.op("Add", erf, g.const(f"{p}.one", np.array(1.0)))), half)
    out = g.op("Add", g.linear(gelu, weights, f"{p}.output.dense"), h)
    return g.layer_norm(out, weights, f"{p}.output.LayerNorm", spec.layer_norm_eps)


def _pool(g: _Graph, h: str, mask_f: str, pooling: str, normalize: bool) -> str:
    if pooling == "cls":
        pooled = g.op("Gather", h, g.const("cls_index", np.array(0, dtype=np.int64)), axis=1)
    else:
        m3 = g.op("Unsqueeze", mask_f, g.const("axes_2", np.array([2], dtype=np.int64)))
        axis1 = g.const("axes_1", np.array([1], dtype=np.int64))
        total = g.op("ReduceSum", g.op("Mul", h, m3), axis1, keepdims=0)
        count = g.op("Max", g.op("ReduceSum", m3, axis1, keepdims=0), g.const("count_floor", np.array(1e-9)))
        pooled = g.op("Div", total, count)
    if not normalize:
        return pooled
    sq = g.op(
        "ReduceSum",
        g.op("Mul", pooled, pooled),
        g.const("axes_last", np.array([1], dtype=np.int64)),
        keepdims=1,
    )
    norm = g.op("Max", g.op("Sqrt", sq), g.const("norm_floor", np.array(1e-12)))
    return g.op("Div", pooled, norm)


def _head(g: _Graph, weights: Weights, h: str) -> str:
    cls = g.op("Gather", h, g.const("cls_index", np.array(0, dtype=np.int64)), axis=1)
    kind = head_kind(weights)
    if kind == "roberta":
        return g.linear(g.op("Tanh", g.linear(cls, weights, "classifier.dense")), weights, "classifier.out_proj")
    if kind == "bert":
        if "pooler.dense.weight" in weights:
            cls = g.op("Tanh", g.linear(cls, weights, "pooler.dense"))
        return g.linear(cls, weights, "classifier")
    raise Invalid("model.safetensors", "task 'classify' needs classifier.* weights")


def build_model(
    spec: EncoderSpec, weights: Weights, *, pooling: str = "mean", normalize: bool = True, task: str = "embed"
) -> onnx.ModelProto:
    """The ONNX model for ``spec`` and ``weights`` (keys as ``spec.normalize_keys`` makes them)."""
    if pooling not in POOLINGS:
        raise Invalid("pooling", f"must be one of {', '.join(POOLINGS)}")
    if task not in {"embed", "classify"}:
        raise Invalid("task", "must be embed or classify")
    g = _Graph()
    with_types = spec.architecture == "bert" and weights["embeddings.token_type_embeddings.weight"].shape[0] > 1
    names = ["input_ids", "attention_mask"] + (["token_type_ids"] if with_types else [])
    inputs = [helper.make_tensor_value_info(n, TensorProto.INT64, ["batch", "sequence"]) for n in names]
    h = _embeddings(g, spec, weights, with_types)
    mask_f = g.op("Cast", "attention_mask", to=TensorProto.FLOAT)
    inverted = g.op("Sub", g.const("mask_one", np.array(1.0)), mask_f)
    bias = g.op(
        "Unsqueeze",
        g.op("Mul", inverted, g.const("mask_value", np.array(MASK_VALUE))),
        g.const("axes_12", np.array([1, 2], dtype=np.int64)),
    )
    for i in range(spec.num_layers):
        h = _layer(g, spec, weights, h, bias, i)
    if task == "classify":
        result, out_name, width = _head(g, weights, h), "logits", spec.num_labels or 1
    else:
        result, out_name, width = (
            _pool(g, h, mask_f, pooling, normalize),
            "sentence_embedding",
            spec.hidden_size,
        )
    g.nodes.append(helper.make_node("Identity", [result], [out_name], name="output"))
    output = helper.make_tensor_value_info(out_name, TensorProto.FLOAT, ["batch", width])
    graph = helper.make_graph(g.nodes, "engram_encoder", inputs, [output], initializer=g.inits)
    model = helper.make_model(
        graph, opset_imports=[helper.make_opsetid("", OPSET)], producer_name="engram", producer_version="1"
    )
    model.ir_version = 8
    return model


def save_model(model: onnx.ModelProto, path: Path) -> None:
    """Write ``model`` to ``path`` (weights in ``<name>.data`` beside it when the model is large)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if model.ByteSize() < _EXTERNAL_DATA_BYTES:
        onnx.checker.check_model(model)
        onnx.save_model(model, str(path))
        return
    onnx.save_model(
        model,
        str(path),
        save_as_external_data=True,
        all_tensors_to_one_file=True,
        location=path.name + ".data",
    )


def convert_file(
    config_path: Path,
    weights_path: Path,
    out_path: Path,
    *,
    pooling: str = "mean",
    normalize: bool = True,
    task: str = "embed",
) -> EncoderSpec:
    """Convert one safetensors encoder to ONNX at ``out_path``; returns the spec read from the config.

    The file is written in place: callers that need atomicity write into a temporary directory and
    rename it (``registry`` does).
    """
    weights = load_weights(weights_path)
    spec = EncoderSpec.from_file(config_path)
    if task == "classify" and not spec.num_labels:
        out_w = weights.get("classifier.out_proj.weight", weights.get("classifier.weight"))
        if out_w is not None:
            spec = dataclasses.replace(spec, num_labels=int(out_w.shape[0]))
    save_model(build_model(spec, weights, pooling=pooling, normalize=normalize, task=task), out_path)
    return spec
