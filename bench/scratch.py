"""A scratch Engram for in-process benchmarks: a temporary data dir (removed after), the models cache from
the environment (``ENGRAM_MODELS_DIR``), and one admin user."""

from __future__ import annotations

import contextlib
import tempfile
from collections.abc import Iterator
from pathlib import Path

from engram_core.auth.users import create_user
from engram_core.engram import Engram
from engram_core.settings import Settings

__all__ = ["scratch_engram"]


@contextlib.contextmanager
def scratch_engram() -> Iterator[Engram]:
    base = Settings.from_env()
    with tempfile.TemporaryDirectory() as tmp:
        settings = base.replace(data_dir=Path(tmp), db_path=Path(tmp) / "e.db", models_dir=base.models_dir)
        engram = Engram.open(settings)
        try:
            engram.db.write(lambda c: create_user(c, None, "bench", is_admin=True))
            yield engram
        finally:
            engram.close()
