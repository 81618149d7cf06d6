"""Shared fixtures: a real SQLite data dir per test, the app through TestClient with its lifespan."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import settings as hypothesis_settings
from starlette.testclient import TestClient

from engram_core.settings import Settings
from engram_server.app import create_app
from tests.helpers import Api

BOOTSTRAP_SECRET = "test-bootstrap-secret"

# CI runs property tests with a fixed seed so a landing never hinges on the draw; local runs explore anew.
hypothesis_settings.register_profile("ci", derandomize=True, database=None, print_blob=True)
if os.environ.get("CI"):
    hypothesis_settings.load_profile("ci")


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings.for_data_dir(tmp_path / "data", bootstrap_secret=BOOTSTRAP_SECRET, ttl_sweep_seconds=3600.0)


@pytest.fixture
def api(settings: Settings) -> Iterator[Api]:
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        r = client.post("/bootstrap", json={"secret": BOOTSTRAP_SECRET})
        assert r.status_code == 201, r.text
        yield Api(client, r.json()["key"])
