"""Encoder description shared by the ONNX converter and the numpy reference.

``EncoderSpec`` reads a Hugging Face ``config.json`` of a BERT-family encoder (BERT or XLM-RoBERTa);
``load_weights`` reads ``model.safetensors`` and strips the architecture prefix (``bert.``, ``roberta.``)
so both consumers see one key layout: ``embeddings.*``, ``encoder.layer.N.*``, ``pooler.*`` and
``classifier.*``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import Invalid

__all__ = [
    "ARCHITECTURES",
    "POOLINGS",
    "EncoderSpec",
    "Weights",
    "head_kind",
    "load_weights",
    "normalize_keys",
]

ARCHITECTURES = ("bert", "xlm-roberta")
POOLINGS = ("mean", "cls")

Weights = dict[str, np.ndarray]

_MODEL_TYPES = {
    "bert": "bert",
    "xlm-roberta": "xlm-roberta",
    "roberta": "xlm-roberta",
    "xlm_roberta": "xlm-roberta",
}
_PREFIXES = ("", "bert.", "roberta.", "model.", "encoder_model.")


@dataclass(frozen=True)
class EncoderSpec:
    """Shape and hyper-parameters of a BERT-family encoder, as read from ``config.json``."""

    architecture: str
    vocab_size: int
    hidden_size: int
    num_layers: int
    num_heads: int
    intermediate_size: int
    max_position_embeddings: int
    type_vocab_size: int
    layer_norm_eps: float
    pad_token_id: int
    num_labels: int = 0

    @property
    def head_dim(self) -> int:
        return self.hidden_size // self.num_heads

    @property
    def position_offset(self) -> int:
        """First position id: 0 for BERT, ``padding_idx + 1`` for XLM-RoBERTa."""
        return self.pad_token_id + 1 if self.architecture == "xlm-roberta" else 0

    @property
    def max_tokens(self) -> int:
        """Longest sequence the position table allows."""
        return self.max_position_embeddings - self.position_offset

    @classmethod
    def from_config(cls, config: dict[str, Any], *, num_labels: int | None = None) -> EncoderSpec:
        """Build from a parsed ``config.json``; ``num_labels`` overrides the head size (0: no head)."""
        model_type = str(config.get("model_type", "bert")).lower()
        if model_type not in _MODEL_TYPES:
            raise Invalid("config.model_type", f"unsupported encoder {model_type!r} (bert, xlm-roberta)")
        act = str(config.get("hidden_act", "gelu"))
        if act not in {"gelu", "gelu_python"}:
            raise Invalid("config.hidden_act", f"only the erf GELU is supported, not {act!r}")
        if config.get("position_embedding_type", "absolute") != "absolute":
            raise Invalid("config.position_embedding_type", "only absolute position embeddings are supported")
        hidden = int(config["hidden_size"])
        heads = int(config["num_attention_heads"])
        if hidden % heads:
            raise Invalid("config.num_attention_heads", f"{heads} does not divide hidden_size {hidden}")
        labels = num_labels
        if labels is None:
            labels = len(config["id2label"]) if "id2label" in config else int(config.get("num_labels", 0))
        return cls(
            architecture=_MODEL_TYPES[model_type],
            vocab_size=int(config["vocab_size"]),
            hidden_size=hidden,
            num_layers=int(config["num_hidden_layers"]),
            num_heads=heads,
            intermediate_size=int(config["intermediate_size"]),
            max_position_embeddings=int(config["max_position_embeddings"]),
            type_vocab_size=int(config.get("type_vocab_size", 2)),
            layer_norm_eps=float(config.get("layer_norm_eps", 1e-12)),
            pad_token_id=int(config.get("pad_token_id", 0) or 0),
            num_labels=labels,
        )

    @classmethod
    def from_file(cls, path: Path, *, num_labels: int | None = None) -> EncoderSpec:
        """Read ``config.json`` at ``path``."""
        with open(path, encoding="utf-8") as fh:
            return cls.from_config(json.load(fh), num_labels=num_labels)

    def to_config(self) -> dict[str, Any]:
        """A minimal ``config.json`` body that ``from_config`` reads back to this spec."""
        body: dict[str, Any] = {
            "model_type": self.architecture,
            "hidden_act": "gelu",
            "vocab_size": self.vocab_size,
            "hidden_size": self.hidden_size,
            "num_hidden_layers": self.num_layers,
            "num_attention_heads": self.num_heads,
            "intermediate_size": self.intermediate_size,
            "max_position_embeddings": self.max_position_embeddings,
            "type_vocab_size": self.type_vocab_size,
            "layer_norm_eps": self.layer_norm_eps,
            "pad_token_id": self.pad_token_id,
            "position_embedding_type": "absolute",
        }
        if self.num_labels:
            body["id2label"] = {str(i): f"LABEL_{i}" for i in range(self.num_labels)}
        return body


def normalize_keys(raw: Weights) -> Weights:
    """Strip the architecture prefix and rename old ``gamma``/``beta`` LayerNorm keys; cast to float32."""
    prefix = next((p for p in _PREFIXES if f"{p}embeddings.word_embeddings.weight" in raw), None)
    if prefix is None:
        raise Invalid("model.safetensors", "no embeddings.word_embeddings.weight: not a BERT-family encoder")
    out: Weights = {}
    for key, value in raw.items():
        if key.startswith("classifier."):
            name = key
        elif prefix and key.startswith(prefix):
            name = key[len(prefix) :]
        elif not prefix:
            name = key
        else:
            continue
        if name.endswith("LayerNorm.gamma"):
            name = name[: -len("gamma")] + "weight"
        elif name.endswith("LayerNorm.beta"):
            name = name[: -len("beta")] + "bias"
        if name.endswith("position_ids") or name.endswith("token_type_ids"):
            continue
        out[name] = np.ascontiguousarray(value, dtype=np.float32)
    return out


def load_weights(path: Path) -> Weights:
    """Read ``model.safetensors`` into float32 arrays with normalised keys."""
    from safetensors.numpy import load_file

    return normalize_keys(load_file(str(path)))


def head_kind(weights: Weights) -> str | None:
    """``"roberta"`` (dense + out_proj), ``"bert"`` (pooler + linear) or None when there is no head."""
    if "classifier.out_proj.weight" in weights:
        return "roberta"
    if "classifier.weight" in weights:
        return "bert"
    return None
