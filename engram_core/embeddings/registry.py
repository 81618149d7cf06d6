"""Where named models come from, and how they get into the models cache.

Resolution order for a name: ``settings.embedding_model_dir`` (default embedding model only), the
models cache ``settings.models_dir/<name>/``, the Hugging Face hub cache (the manifest's ``hf_repo``),
then ``pull`` when the caller allows it. A directory counts when it holds one of:

* an Engram-prepared model: ``engram-model.json`` + ``model.onnx`` + ``tokenizer.json``;
* a pre-exported ONNX model (e.g. ``onnx/model_quantized.onnx``) + ``tokenizer.json``: used as is;
* ``config.json`` + ``model.safetensors`` + ``tokenizer.json``: converted once into the cache.

``load_embedder`` never raises: a missing or broken model yields ``(None, reason)``.
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import Unavailable
from ..settings import Settings
from .base import META_FILE, Embedder, ModelInfo
from .convert import convert_file
from .manifest import ManifestEntry, entry_for
from .quantize import quantize_graph

__all__ = [
    "Progress",
    "Resolved",
    "candidate_dirs",
    "ensure",
    "hf_snapshots",
    "inspect_dir",
    "load_embedder",
    "no_progress",
    "prepare_from_safetensors",
    "require",
    "resolve",
]

log = logging.getLogger("engram.embeddings")

Progress = Callable[[str], None]


@dataclass(frozen=True)
class Resolved:
    """A usable model: its directory, its metadata and where it was found."""

    name: str
    directory: Path
    info: ModelInfo
    origin: str  # model dir | models cache | hf cache | pulled


def no_progress(_: str) -> None:
    """A ``Progress`` that prints nothing."""


def hf_snapshots(repo: str) -> list[Path]:
    """Snapshot dirs of ``repo`` in the Hugging Face hub cache, newest first."""
    if not repo:
        return []
    hub = os.environ.get("HF_HUB_CACHE") or os.path.join(
        os.environ.get("HF_HOME") or os.path.expanduser("~/.cache/huggingface"), "hub"
    )
    root = Path(hub) / f"models--{repo.replace('/', '--')}" / "snapshots"
    if not root.is_dir():
        return []
    return sorted((p for p in root.iterdir() if p.is_dir()), key=lambda p: p.stat().st_mtime, reverse=True)


def candidate_dirs(name: str, settings: Settings) -> list[tuple[str, Path]]:
    """Every place ``name`` is looked for, in order, as ``(origin, directory)``."""
    out: list[tuple[str, Path]] = []
    if settings.embedding_model_dir is not None and name == settings.embedding_model:
        out.append(("model dir", Path(settings.embedding_model_dir)))
    out.append(("models cache", Path(settings.models_dir) / name))
    out.extend(("hf cache", snap) for snap in hf_snapshots(entry_for(name).hf_repo))
    return out


def _find_onnx(directory: Path, entry: ManifestEntry) -> tuple[str, str] | None:
    """``(onnx path, tokenizer path)`` relative to ``directory`` for a pre-exported model, if any."""
    for rel in entry.onnx_files:
        onnx_path = directory / rel
        if not onnx_path.is_file():
            continue
        for tok in (directory / "tokenizer.json", onnx_path.parent / "tokenizer.json"):
            if tok.is_file():
                return rel, str(tok.relative_to(directory))
    return None


def inspect_dir(directory: Path, entry: ManifestEntry) -> ModelInfo | str | None:
    """What ``directory`` holds: a ready ``ModelInfo``, ``"safetensors"`` (needs converting) or None."""
    if not directory.is_dir():
        return None
    if (directory / META_FILE).is_file():
        info = ModelInfo.read(directory)
        if (directory / info.onnx).is_file() and (directory / info.tokenizer).is_file():
            return info
    found = _find_onnx(directory, entry)
    if found is not None:
        return ModelInfo(
            name=entry.name,
            task=entry.task,
            dim=entry.dim if entry.task == "embed" else 1,
            pooling=entry.pooling,
            max_tokens=entry.max_tokens,
            onnx=found[0],
            tokenizer=found[1],
            graph_pooled=False,
            architecture=entry.architecture,
            source={"type": "onnx", "path": str(directory)},
        )
    if all((directory / f).is_file() for f in ("config.json", "model.safetensors", "tokenizer.json")):
        return "safetensors"
    return None


def _swap_in(staged: Path, dest: Path) -> None:
    """Replace ``dest`` by the fully written directory ``staged`` (same filesystem)."""
    old = dest.with_name(f".{dest.name}.old-{os.getpid()}")
    if dest.exists():
        os.replace(dest, old)
    os.replace(staged, dest)
    shutil.rmtree(old, ignore_errors=True)


def prepare_from_safetensors(
    source: Path,
    dest: Path,
    *,
    name: str,
    pooling: str = "mean",
    task: str = "embed",
    max_tokens: int | None = None,
    source_meta: dict[str, Any] | None = None,
    quantize: str = "",
) -> Path:
    """Convert ``source`` (config.json + model.safetensors + tokenizer.json) into ``dest`` atomically,
    quantizing the graph when ``quantize`` names a scheme (``"int8"``)."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    staged = Path(tempfile.mkdtemp(dir=dest.parent, prefix=f".{dest.name}-"))
    try:
        spec = convert_file(
            source / "config.json",
            source / "model.safetensors",
            staged / "model.onnx",
            pooling=pooling,
            task=task,
        )
        if quantize:
            quantize_graph(staged / "model.onnx", quantize)
        for f in ("tokenizer.json", "config.json"):
            shutil.copyfile(source / f, staged / f)
        ModelInfo(
            name=name,
            task=task,
            dim=spec.hidden_size if task == "embed" else max(spec.num_labels, 1),
            pooling=pooling,
            max_tokens=min(max_tokens or spec.max_tokens, spec.max_tokens),
            architecture=spec.architecture,
            source={
                **(source_meta or {"type": "safetensors", "path": str(source)}),
                **({"quantize": quantize} if quantize else {}),
            },
        ).write(staged)
        _swap_in(staged, dest)
    except BaseException:
        shutil.rmtree(staged, ignore_errors=True)
        raise
    return dest


def _converted(name: str, directory: Path, entry: ManifestEntry, settings: Settings, progress: Progress) -> Path:
    """The cached conversion of an external safetensors dir, made when missing or stale."""
    weights = directory / "model.safetensors"
    stat = weights.stat()
    key = hashlib.sha1(str(directory.resolve()).encode()).hexdigest()[:12]
    dest = Path(settings.models_dir) / ".converted" / f"{name}-{key}"
    meta: dict[str, Any] = {
        "type": "safetensors",
        "path": str(directory),
        "size": stat.st_size,
        "mtime_ns": stat.st_mtime_ns,
    }
    if entry.quantize:
        meta["quantize"] = entry.quantize
    if (dest / META_FILE).is_file() and ModelInfo.read(dest).source == meta:
        return dest
    progress(f"converting {directory} to ONNX in {dest}")
    return prepare_from_safetensors(
        directory,
        dest,
        name=name,
        pooling=entry.pooling,
        task=entry.task,
        max_tokens=entry.max_tokens,
        source_meta=meta,
        quantize=entry.quantize,
    )


def resolve(name: str, settings: Settings, progress: Progress = no_progress) -> Resolved | None:
    """The first usable location of ``name`` (converting safetensors on the way), or None. No network."""
    entry = entry_for(name)
    for origin, directory in candidate_dirs(name, settings):
        found = inspect_dir(directory, entry)
        if found is None:
            continue
        if found == "safetensors":
            directory = _converted(name, directory, entry, settings, progress)
            found = ModelInfo.read(directory)
        assert isinstance(found, ModelInfo)
        return Resolved(name, directory, found, origin)
    return None


def ensure(name: str, settings: Settings, progress: Progress = no_progress) -> Resolved:
    """``resolve`` or, failing that, ``pull``; ``Unavailable`` if neither can provide the model."""
    found = resolve(name, settings, progress)
    if found is not None:
        return found
    from .pull import pull

    return pull(name, settings, progress=progress)


def load_embedder(
    settings: Settings, name: str | None = None, *, allow_pull: bool = False, progress: Progress = no_progress
) -> tuple[Embedder | None, str]:
    """Load an embedding model; never raises. ``(embedder, "where it came from")`` or ``(None, why not)``."""
    model = name or settings.embedding_model
    try:
        found = ensure(model, settings, progress) if allow_pull else resolve(model, settings, progress)
        if found is None:
            places = ", ".join(str(d) for _, d in candidate_dirs(model, settings))
            return None, (
                f"embedding model {model!r} is not installed (looked in {places}); run `engram models pull {model}`"
            )
        if found.info.task != "embed":
            return None, f"model {model!r} is a {found.info.task} model, not an embedding model"
        from .onnx_model import OnnxEmbedder

        embedder = OnnxEmbedder(
            found.directory,
            found.info,
            threads=onnx_threads(settings),
            batch_size=settings.embed_batch_size,
            max_seq_length=settings.max_seq_length,
        )
        return embedder, f"{embedder.fingerprint} from {found.directory} ({found.origin})"
    except Exception as exc:  # a model problem must never take the caller down
        log.warning("embedding model %s unavailable: %s", model, exc)
        return None, f"embedding model {model!r} failed to load: {exc}"


def embed_workers(settings: Settings) -> int:
    """Embed threads (ENGRAM_EMBED_WORKERS; 0: one per core)."""
    return settings.embed_workers if settings.embed_workers > 0 else max(1, os.cpu_count() or 1)


def onnx_threads(settings: Settings) -> int:
    """Intra-op threads per model call (ENGRAM_ONNX_THREADS; 0: the cores shared among the embed threads).

    On a small machine one thread per call is both the quickest for a short query (no hand-off between
    threads) and, with one embed thread per core, the way concurrent calls use every core.
    """
    if settings.onnx_threads > 0:
        return settings.onnx_threads
    return max(1, (os.cpu_count() or 1) // embed_workers(settings))


def require(name: str, settings: Settings) -> Resolved:
    """``resolve`` that raises ``Unavailable`` naming the pull command when the model is missing."""
    found = resolve(name, settings)
    if found is None:
        raise Unavailable(f"model {name!r} is not installed; run `engram models pull {name}`")
    return found
