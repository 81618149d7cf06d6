"""Shutdown is bounded: background work that never finishes stopping cannot hang the server; the log
names the coroutine and the line it was still waiting at."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from engram_core.engram import Engram
from engram_core.settings import Settings
from engram_server import app as app_module


def test_a_stop_that_never_finishes_is_abandoned_and_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(app_module, "STOP_TIMEOUT_SECONDS", 0.3)
    engram = Engram.open(Settings.for_data_dir(tmp_path / "data", log_level="warning"))

    async def stubborn_stop() -> None:  # waits for something that never happens
        await asyncio.Event().wait()

    real_stop = engram.stop
    monkeypatch.setattr(engram, "stop", stubborn_stop)
    with (
        caplog.at_level(logging.WARNING, logger="engram.server"),
        TestClient(app_module.create_app(engram=engram)) as client,
    ):
        assert client.get("/health").status_code == 200
    # Reaching this line is the test: the lifespan's shutdown returned.
    warning = next(r.getMessage() for r in caplog.records if "did not stop" in r.getMessage())
    assert "stubborn_stop" in warning and "test_shutdown.py" in warning
    asyncio.run(real_stop())
    engram.close()
