"""Tiny random-weight encoders for tests: real files, real conversion, milliseconds to run.

``write_tiny_model`` writes ``config.json`` + ``model.safetensors`` + ``tokenizer.json`` for a small BERT
(WordPiece tokenizer) or XLM-RoBERTa (byte-level BPE tokenizer), optionally with a cross-encoder head.
``install_tiny_model`` converts one into a models cache under a given name (``minilm`` by default), so a
server test can run ``load_embedder`` with ``settings.models_dir`` pointing at it and never touch the
network. The weights are seeded, so the same call always builds the same model.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from safetensors.numpy import save_file
from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, processors, trainers

from engram_core.embeddings.base import ModelInfo
from engram_core.embeddings.spec import EncoderSpec, Weights, load_weights

__all__ = [
    "CORPUS",
    "TinyModel",
    "build_tiny_model",
    "install_tiny_model",
    "tiny_spec",
    "tiny_tokenizer",
    "tiny_weights",
    "write_tiny_model",
]

CORPUS = [
    "The cat sat on the mat.",
    "A kitten rested on a rug near the window.",
    "Quarterly tax filing deadlines are approaching for small businesses.",
    "Dogs chase balls in the park every morning.",
    "The server stores memories for language model agents.",
    "Embeddings map text to vectors; similar texts land close together.",
    "SQLite keeps the whole database in a single file.",
    "She remembered the meeting was moved to Thursday afternoon.",
    "Python 3.11 runs the tests with warnings treated as errors.",
    "Rain is expected tomorrow, so bring an umbrella.",
] * 4

_BERT_SPECIAL = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
_XLMR_SPECIAL = ["<s>", "<pad>", "</s>", "<unk>"]


def tiny_tokenizer(architecture: str = "bert", vocab_size: int = 300) -> Tokenizer:
    """A tokenizer trained on ``CORPUS``: WordPiece for BERT, byte-level BPE for XLM-RoBERTa.

    Like the real ones, its saved padding pads every input to a fixed 128 tokens (the runtime must undo
    that) and it has the model's special-token template for single texts and pairs.
    """
    if architecture == "bert":
        # The vocabulary is built here, not by WordPieceTrainer: the trainer breaks ties in an order that
        # changes from process to process, so the "same" tiny model embedded differently in each test run
        # (and rankings between close texts flipped). Specials, every character alone and as a "##"
        # continuation, then the corpus's words by frequency: the same ids every time.
        normalizer, pre = normalizers.BertNormalizer(lowercase=True), pre_tokenizers.BertPreTokenizer()
        words = Counter(w for text in CORPUS for w, _ in pre.pre_tokenize_str(normalizer.normalize_str(text)))
        chars = sorted({c for w in words for c in w})
        pieces = [*_BERT_SPECIAL, *chars, *(f"##{c}" for c in chars)]
        pieces += [w for w, _ in sorted(words.items(), key=lambda kv: (-kv[1], kv[0])) if w not in pieces]
        vocab = {piece: i for i, piece in enumerate(pieces[:vocab_size])}
        tok = Tokenizer(models.WordPiece(vocab, unk_token="[UNK]"))
        tok.normalizer = normalizer
        tok.pre_tokenizer = pre
        tok.decoder = decoders.WordPiece()
        cls, sep, pad = "[CLS]", "[SEP]", "[PAD]"
        tok.post_processor = processors.TemplateProcessing(
            single=f"{cls} $A {sep}",
            pair=f"{cls} $A {sep} $B:1 {sep}:1",
            special_tokens=[(cls, tok.token_to_id(cls)), (sep, tok.token_to_id(sep))],
        )
    else:
        tok = Tokenizer(models.BPE(unk_token="<unk>"))
        tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=True)
        tok.decoder = decoders.ByteLevel()
        trainer = trainers.BpeTrainer(
            vocab_size=vocab_size,
            special_tokens=_XLMR_SPECIAL,
            show_progress=False,
            initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        )
        tok.train_from_iterator(CORPUS, trainer=trainer)
        cls, sep, pad = "<s>", "</s>", "<pad>"
        tok.post_processor = processors.TemplateProcessing(
            single=f"{cls} $A {sep}",
            pair=f"{cls} $A {sep} {sep} $B {sep}",
            special_tokens=[(cls, tok.token_to_id(cls)), (sep, tok.token_to_id(sep))],
        )
    tok.enable_padding(pad_id=tok.token_to_id(pad), pad_token=pad, length=128)
    tok.enable_truncation(max_length=128)
    return tok


def tiny_spec(
    architecture: str = "bert",
    *,
    vocab_size: int,
    hidden: int = 32,
    layers: int = 2,
    heads: int = 4,
    labels: int = 0,
) -> EncoderSpec:
    """The spec of a tiny encoder with a 64-token window."""
    xlmr = architecture == "xlm-roberta"
    pad = 1 if xlmr else 0
    return EncoderSpec(
        architecture=architecture,
        vocab_size=vocab_size,
        hidden_size=hidden,
        num_layers=layers,
        num_heads=heads,
        intermediate_size=hidden * 4,
        max_position_embeddings=64 + (pad + 1 if xlmr else 0),
        type_vocab_size=1 if xlmr else 2,
        layer_norm_eps=1e-12 if not xlmr else 1e-5,
        pad_token_id=pad,
        num_labels=labels,
    )


def tiny_weights(spec: EncoderSpec, *, seed: int = 0, prefix: str = "") -> dict[str, np.ndarray]:
    """Random weights in the Hugging Face key layout (``prefix`` e.g. ``"bert."``), head included if any."""
    rng = np.random.default_rng(seed)
    h, inter = spec.hidden_size, spec.intermediate_size

    def mat(*shape: int, scale: float = 0.2) -> np.ndarray:
        return (rng.standard_normal(shape) * scale).astype(np.float32)

    def norm(name: str) -> None:
        w[f"{name}.weight"] = (1.0 + mat(h, scale=0.1)).astype(np.float32)
        w[f"{name}.bias"] = mat(h, scale=0.05)

    w: dict[str, np.ndarray] = {
        "embeddings.word_embeddings.weight": mat(spec.vocab_size, h, scale=1.0),
        "embeddings.position_embeddings.weight": mat(spec.max_position_embeddings, h, scale=0.5),
        "embeddings.token_type_embeddings.weight": mat(spec.type_vocab_size, h, scale=0.5),
    }
    norm("embeddings.LayerNorm")
    for i in range(spec.num_layers):
        p = f"encoder.layer.{i}"
        for part in ("query", "key", "value"):
            w[f"{p}.attention.self.{part}.weight"], w[f"{p}.attention.self.{part}.bias"] = mat(h, h), mat(h)
        w[f"{p}.attention.output.dense.weight"], w[f"{p}.attention.output.dense.bias"] = mat(h, h), mat(h)
        norm(f"{p}.attention.output.LayerNorm")
        w[f"{p}.intermediate.dense.weight"], w[f"{p}.intermediate.dense.bias"] = mat(inter, h), mat(inter)
        w[f"{p}.output.dense.weight"], w[f"{p}.output.dense.bias"] = mat(h, inter, scale=0.1), mat(h)
        norm(f"{p}.output.LayerNorm")
    out = {prefix + k: v for k, v in w.items()}
    if spec.num_labels and spec.architecture == "xlm-roberta":
        out["classifier.dense.weight"], out["classifier.dense.bias"] = mat(h, h), mat(h)
        out["classifier.out_proj.weight"] = mat(spec.num_labels, h)
        out["classifier.out_proj.bias"] = mat(spec.num_labels)
    elif spec.num_labels:
        out[prefix + "pooler.dense.weight"], out[prefix + "pooler.dense.bias"] = mat(h, h), mat(h)
        out["classifier.weight"], out["classifier.bias"] = mat(spec.num_labels, h), mat(spec.num_labels)
    return out


def write_tiny_model(
    directory: Path,
    architecture: str = "bert",
    *,
    hidden: int = 32,
    layers: int = 2,
    heads: int = 4,
    labels: int = 0,
    seed: int = 0,
    prefix: str = "",
) -> EncoderSpec:
    """Write a tiny model's ``config.json``, ``model.safetensors`` and ``tokenizer.json`` to ``directory``."""
    directory.mkdir(parents=True, exist_ok=True)
    tok = tiny_tokenizer(architecture)
    spec = tiny_spec(
        architecture,
        vocab_size=tok.get_vocab_size(),
        hidden=hidden,
        layers=layers,
        heads=heads,
        labels=labels,
    )
    save_file(tiny_weights(spec, seed=seed, prefix=prefix), str(directory / "model.safetensors"))
    tok.save(str(directory / "tokenizer.json"))
    (directory / "config.json").write_text(json.dumps(spec.to_config(), indent=1), encoding="utf-8")
    return spec


def install_tiny_model(
    models_dir: Path,
    name: str = "minilm",
    architecture: str = "bert",
    *,
    pooling: str = "mean",
    task: str = "embed",
) -> Path:
    """Convert a tiny model into ``models_dir/<name>/`` as ``registry`` would cache a pulled one."""
    from engram_core.embeddings.registry import prepare_from_safetensors

    source = models_dir / f".tiny-src-{name}"
    write_tiny_model(source, architecture, labels=1 if task == "classify" else 0)
    return prepare_from_safetensors(source, models_dir / name, name=name, pooling=pooling, task=task)


@dataclass(frozen=True)
class TinyModel:
    """A tiny model: its safetensors source dir, its converted dir, spec, weights and metadata."""

    source: Path
    converted: Path
    spec: EncoderSpec
    weights: Weights
    info: ModelInfo


def build_tiny_model(
    root: Path,
    name: str,
    architecture: str = "bert",
    *,
    pooling: str = "mean",
    task: str = "embed",
    prefix: str = "",
) -> TinyModel:
    """Write a tiny model to ``root/<name>-src`` and convert it into ``root/<name>``."""
    from engram_core.embeddings.registry import prepare_from_safetensors

    source = root / f"{name}-src"
    spec = write_tiny_model(source, architecture, labels=1 if task == "classify" else 0, prefix=prefix, seed=7)
    converted = prepare_from_safetensors(source, root / name, name=name, pooling=pooling, task=task)
    return TinyModel(source, converted, spec, load_weights(source / "model.safetensors"), ModelInfo.read(converted))
