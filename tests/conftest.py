"""Shared fixtures: a real SQLite data dir per test, the app through TestClient with its lifespan."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import settings as hypothesis_settings
from starlette.testclient import TestClient

from engram_core.settings import Settings
from engram_core.storage.connection import connect
from engram_core.storage.migrate import apply_migrations
from engram_server.app import create_app
from tests.helpers import Api

BOOTSTRAP_SECRET = "test-bootstrap-secret"

# CI runs property tests with a fixed seed so a landing never hinges on the draw; local runs explore anew.
hypothesis_settings.register_profile("ci", derandomize=True, database=None, print_blob=True)
if os.environ.get("CI"):
    hypothesis_settings.load_profile("ci")


@pytest.fixture(scope="session")
def migrated_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A database file with every migration applied, made once per test process: each test's data dir
    starts from a copy of it (what the first start of a fresh server writes, less 0.2 s of DDL a test)."""
    path = tmp_path_factory.mktemp("migrated") / "engram.db"
    conn = connect(path)
    try:
        apply_migrations(conn)
    finally:
        conn.close()  # the last connection: the WAL is checkpointed into the file and removed
    assert not path.with_name("engram.db-wal").exists()
    return path


@pytest.fixture
def settings(tmp_path: Path, migrated_db: Path) -> Settings:
    settings = Settings.for_data_dir(tmp_path / "data", bootstrap_secret=BOOTSTRAP_SECRET, ttl_sweep_seconds=3600.0)
    settings.db_path.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(migrated_db, settings.db_path)
    return settings


@pytest.fixture
def api(settings: Settings) -> Iterator[Api]:
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        r = client.post("/bootstrap", json={"secret": BOOTSTRAP_SECRET})
        assert r.status_code == 201, r.text
        yield Api(client, r.json()["key"])
