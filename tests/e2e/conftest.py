"""Shared fixtures for end-to-end tests: `engram serve` on a free loopback port."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.support import admin_key, free_port, start_server


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[str, dict[str, str]]]:
    port = free_port()
    env = {**os.environ, "ENGRAM_DATA_DIR": str(tmp_path / "data"), "ENGRAM_PORT": str(port)}
    env.pop("ENGRAM_BOOTSTRAP_SECRET", None)
    key = admin_key(env)
    proc = start_server(env)
    try:
        yield f"http://127.0.0.1:{port}", {"Authorization": f"Bearer {key}"}
    finally:
        proc.terminate()
        proc.wait(timeout=15)
