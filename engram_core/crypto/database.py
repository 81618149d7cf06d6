"""Open the database the settings name: unlock its key first (a wrong or missing key is a clear error)."""

from __future__ import annotations

from ..settings import Settings
from ..storage.database import Database
from .keys import unlock

__all__ = ["open_database"]


def open_database(settings: Settings) -> Database:
    """Open (and migrate) the database ``settings`` names, creating the data dir if needed."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    key = unlock(settings)  # Locked with a clear message on a wrong or missing key; never a new empty DB
    return Database(
        settings.db_path,
        key=key,
        read_pool_size=settings.read_pool_size,
        busy_timeout_ms=settings.busy_timeout_ms,
    )
