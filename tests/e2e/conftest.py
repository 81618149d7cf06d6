"""Shared fixtures for end-to-end tests: `engram serve` on a free loopback port."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.support import live_server


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[str, dict[str, str]]]:
    with live_server(tmp_path / "data") as live:
        yield live
