"""A plain numpy forward pass of a BERT-family encoder: the yardstick for the ONNX converter.

It computes in float64 with exactly the maths ``convert.py`` puts in the graph (erf GELU, additive
attention mask, mean or CLS pooling, L2 normalisation, optional classifier head), so the two agree to
float32 rounding. It is slow and meant for tests and for checking a conversion, not for serving.
"""

from __future__ import annotations

import numpy as np
from scipy.special import erf

from .spec import EncoderSpec, Weights, head_kind

__all__ = ["MASK_VALUE", "encode", "pool", "scores"]

MASK_VALUE = -1e9  # added to attention scores of padded positions (same constant in the graph)


def _layer_norm(x: np.ndarray, w: np.ndarray, b: np.ndarray, eps: float) -> np.ndarray:
    mean = x.mean(axis=-1, keepdims=True)
    var = ((x - mean) ** 2).mean(axis=-1, keepdims=True)
    out: np.ndarray = (x - mean) / np.sqrt(var + eps) * w + b
    return out


def _linear(x: np.ndarray, weights: Weights, name: str) -> np.ndarray:
    out: np.ndarray = x @ weights[f"{name}.weight"].astype(np.float64).T + weights[f"{name}.bias"]
    return out


def _gelu(x: np.ndarray) -> np.ndarray:
    out: np.ndarray = 0.5 * x * (1.0 + erf(x / np.sqrt(2.0)))
    return out


def _position_ids(spec: EncoderSpec, mask: np.ndarray) -> np.ndarray:
    if spec.architecture == "xlm-roberta":
        ids: np.ndarray = np.cumsum(mask, axis=1) * mask + spec.pad_token_id
        return ids
    return np.broadcast_to(np.arange(mask.shape[1]), mask.shape)


def encode(
    spec: EncoderSpec,
    weights: Weights,
    input_ids: np.ndarray,
    attention_mask: np.ndarray,
    token_type_ids: np.ndarray | None = None,
) -> np.ndarray:
    """Token states (batch, seq, hidden) in float64."""
    ids = np.asarray(input_ids, dtype=np.int64)
    mask = np.asarray(attention_mask, dtype=np.int64)
    types = np.zeros_like(ids) if token_type_ids is None else np.asarray(token_type_ids, dtype=np.int64)
    eps = spec.layer_norm_eps
    h = (
        weights["embeddings.word_embeddings.weight"][ids].astype(np.float64)
        + weights["embeddings.position_embeddings.weight"][_position_ids(spec, mask)]
        + weights["embeddings.token_type_embeddings.weight"][types]
    )
    h = _layer_norm(h, weights["embeddings.LayerNorm.weight"], weights["embeddings.LayerNorm.bias"], eps)
    batch, seq, hidden = h.shape
    heads, dim = spec.num_heads, spec.head_dim
    bias = ((1.0 - mask) * MASK_VALUE)[:, None, None, :]
    for layer in range(spec.num_layers):
        p = f"encoder.layer.{layer}"

        def split(x: np.ndarray) -> np.ndarray:
            return x.reshape(batch, seq, heads, dim).transpose(0, 2, 1, 3)

        q = split(_linear(h, weights, f"{p}.attention.self.query"))
        k = split(_linear(h, weights, f"{p}.attention.self.key"))
        v = split(_linear(h, weights, f"{p}.attention.self.value"))
        s = q @ k.transpose(0, 1, 3, 2) / np.sqrt(dim) + bias
        s = np.exp(s - s.max(axis=-1, keepdims=True))
        s /= s.sum(axis=-1, keepdims=True)
        ctx = (s @ v).transpose(0, 2, 1, 3).reshape(batch, seq, hidden)
        a = _linear(ctx, weights, f"{p}.attention.output.dense") + h
        h = _layer_norm(
            a,
            weights[f"{p}.attention.output.LayerNorm.weight"],
            weights[f"{p}.attention.output.LayerNorm.bias"],
            eps,
        )
        f = _linear(_gelu(_linear(h, weights, f"{p}.intermediate.dense")), weights, f"{p}.output.dense") + h
        h = _layer_norm(f, weights[f"{p}.output.LayerNorm.weight"], weights[f"{p}.output.LayerNorm.bias"], eps)
    return h


def pool(states: np.ndarray, attention_mask: np.ndarray, pooling: str, normalize: bool = True) -> np.ndarray:
    """Mean (over unmasked tokens) or CLS pooling, then optional L2 normalisation."""
    if pooling == "cls":
        out = states[:, 0, :]
    else:
        m = np.asarray(attention_mask, dtype=np.float64)[:, :, None]
        out = (states * m).sum(axis=1) / np.maximum(m.sum(axis=1), 1e-9)
    if normalize:
        out = out / np.maximum(np.linalg.norm(out, axis=-1, keepdims=True), 1e-12)
    return out


def scores(
    spec: EncoderSpec,
    weights: Weights,
    input_ids: np.ndarray,
    attention_mask: np.ndarray,
    token_type_ids: np.ndarray | None = None,
) -> np.ndarray:
    """Classifier logits (batch, num_labels) of a cross-encoder."""
    cls = encode(spec, weights, input_ids, attention_mask, token_type_ids)[:, 0, :]
    kind = head_kind(weights)
    if kind == "roberta":
        return _linear(np.tanh(_linear(cls, weights, "classifier.dense")), weights, "classifier.out_proj")
    if kind == "bert":
        if "pooler.dense.weight" in weights:
            cls = np.tanh(_linear(cls, weights, "pooler.dense"))
        return _linear(cls, weights, "classifier")
    raise ValueError("these weights have no classifier head")
